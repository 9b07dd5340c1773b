"""The `topo-opt` command line: thin commands over library calls; errors become one line."""

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from topo_opt import __version__
from topo_opt.collectives import score_fabric
from topo_opt.errors import InstanceError, SolverError, TopoOptError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.instance import fabric_chip_count
from topo_opt.io import read_instance, read_json, write_figure, write_graph
from topo_opt.provisioning import provision
from topo_opt.provisioning.text import format_provisioning
from topo_opt.report import format_scores, format_summary, plot_scores
from topo_opt.solution import SolveOptions
from topo_opt.units import parse_size_bytes
from topo_opt.verify import verify_provisioning


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


@main.command("provision")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Solver time limit in seconds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Solver random seed.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Solver threads offered (SCIP, the MIP solver, uses one).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan and bill of materials as JSON.")
@_reported
def provision_command(instance: str, time_limit: float, seed: int, workers: int, as_json: bool) -> None:
    """Size lanes, cable bundles and switches for the workload; print the plan and bill of materials."""
    inst = read_instance(instance)
    graph = build_fabric(inst)
    plan = provision(inst, graph, SolveOptions(time_limit, seed, workers)).to_dict()
    problems = verify_provisioning(inst, graph, plan)
    if problems:
        raise SolverError("the provisioning plan fails its re-check: " + "; ".join(problems[:3]))
    click.echo(json.dumps(plan, indent=2) if as_json else format_provisioning(plan))

def _scored_instance(target: str):
    """An instance YAML, or a result JSON whose `instance.path` names one."""
    if not target.endswith(".json"):
        return read_instance(target)
    data = read_json(target)
    path = (data.get("instance") or {}).get("path") if isinstance(data, dict) else None
    if not isinstance(path, str) or not path:
        raise InstanceError(target, "instance.path", "missing: a result file names its instance there")
    return read_instance(path)


@main.command()
@click.argument("target", metavar="INSTANCE|RESULT", type=click.Path(dir_okay=False))
@click.option("--collective", "collectives", multiple=True,
              help="all-reduce, reduce-scatter, all-gather, all-to-all, broadcast "
                   "(repeatable; default: the workload's).")
@click.option("--algorithm", "algorithms", multiple=True,
              help="ring, bidir-ring, tree, halving-doubling, direct, hierarchical, multi-dim, pairwise, "
                   "ubmesh-xy or auto (repeatable; default auto).")
@click.option("--size", "sizes", multiple=True,
              help="Buffer per chip, e.g. 1GiB (repeatable; default: the workload's).")
@click.option("--model", default="flow", show_default=True, help="flow (max-min fair sharing) or alpha-beta.")
@click.option("--groups", default=None,
              help="all (default), board, rack, pod, or a layout tp=8,pp=8,dp=128[@axis].")
@click.option("--json", "as_json", is_flag=True, help="Print the records as a JSON list.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Draw bus bandwidth against size to this image file.")
@_reported
def score(target: str, collectives: tuple[str, ...], algorithms: tuple[str, ...], sizes: tuple[str, ...],
          model: str, groups: str | None, as_json: bool, plot: str | None) -> None:
    """Time collectives on the fabric, against their bandwidth bounds."""
    inst = _scored_instance(target)
    try:
        size_bytes = [parse_size_bytes(s) for s in sizes] or list(inst.workload.sizes)
    except ValueError as exc:
        raise InstanceError(target, "--size", str(exc)) from None
    try:
        records = score_fabric(build_fabric(inst), collectives or inst.workload.collectives, size_bytes,
                               algorithms or ("auto",), model, groups)
    except InstanceError as exc:
        raise InstanceError(target, f"--{exc.field}", exc.message) from None
    if plot:
        write_figure(plot, plot_scores(records, inst.name))
    click.echo(json.dumps(records, indent=2) if as_json else format_scores(records))
    if plot and not as_json:
        click.echo(f"plot written to {plot}")


if __name__ == "__main__":
    main()
