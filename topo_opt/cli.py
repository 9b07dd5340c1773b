"""The `topo-opt` command line: thin commands over library calls; errors become one line."""

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from topo_opt import __version__
from topo_opt.errors import TopoOptError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.instance import fabric_chip_count
from topo_opt.io import read_instance, write_figure, write_graph, write_json_atomic
from topo_opt.placement import place
from topo_opt.plots import placement_figure
from topo_opt.report import format_placement, format_summary
from topo_opt.solution import SolveOptions


def _reported(func: Callable) -> Callable:
    """Turn library errors into `error: …` on stderr and the error's exit code (2 bad input, 3 infeasible)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TopoOptError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted; no result file was written", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="topo-opt")
def main() -> None:
    """Topology optimizer for AI superclusters: fabrics, placement, provisioning, collectives."""


@main.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@_reported
def validate(instance: str) -> None:
    """Check an instance file; print a one-line summary."""
    inst = read_instance(instance)
    physical = "with physical sections" if inst.has_physical else "fabric only"
    click.echo(f"ok: {inst.name}: {inst.fabric.family} fabric, {fabric_chip_count(inst.fabric):,} chips, {physical}")


@main.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the graph (.json node-link or .graphml).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--seed", default=0, show_default=True, help="Seed for sampled hop statistics.")
@_reported
def build(instance: str, out: str | None, as_json: bool, seed: int) -> None:
    """Build the fabric graph and print its summary."""
    inst = read_instance(instance)
    graph = build_fabric(inst)
    summary = summarize(graph, seed=seed)
    summary["compute_cabinets"] = sum(c.count for c in inst.cabinets if c.kind == "compute")
    summary["interconnect_cabinets"] = sum(c.count for c in inst.cabinets if c.kind == "interconnect")
    if out:
        write_graph(out, graph)
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    if out and not as_json:
        click.echo(f"graph written to {out}")


@main.command("place")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Seconds for the whole placement (greedy, CP-SAT, search).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Same seed, same placement.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="CP-SAT workers.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the placement as JSON.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), help="Draw the floor plan (PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the placement as JSON.")
@_reported
def place_command(instance: str, time_limit: float, seed: int, workers: int, out: str | None,
                  plot: str | None, as_json: bool) -> None:
    """Place the cabinets on the floor under power and cooling; print the summary."""
    inst = read_instance(instance)
    result = place(inst, build_fabric(inst), SolveOptions(time_limit, seed, workers)).to_dict()
    if out:
        write_json_atomic(out, result)
    if plot:
        write_figure(plot, placement_figure(inst, result))
    click.echo(json.dumps(result, indent=2) if as_json else format_placement(result))
    if not as_json:
        for what, path in (("placement", out), ("plot", plot)):
            if path:
                click.echo(f"{what} written to {path}")
