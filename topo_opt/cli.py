"""The `topo-opt` command line: thin commands over library calls; errors become one line."""

import functools
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from topo_opt import __version__, pipeline
from topo_opt.collectives import score_fabric
from topo_opt.compare import compare_csv, compare_table, design_metrics
from topo_opt.design import derive
from topo_opt.errors import InstanceError, TopoOptError
from topo_opt.export import astra_sim_config
from topo_opt.instance import fabric_chip_count
from topo_opt.io import (
    existing_result_instance,
    file_sha256,
    png_data_uri,
    read_instance,
    read_json,
    write_astra_sim,
    write_figure,
    write_graph,
    write_json_atomic,
    write_text_atomic,
)
from topo_opt.plots import placement_figure
from topo_opt.provisioning.text import format_provisioning
from topo_opt.report import (
    format_placement,
    format_scores,
    format_solve,
    format_summary,
    plot_scores,
    report_figures,
    report_html,
)
from topo_opt.solution import SolveOptions
from topo_opt.units import parse_size_bytes


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
    fabric, summary = pipeline.build(read_instance(instance), seed)
    if out:
        write_graph(out, fabric.graph)
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
    if out and not as_json:
        click.echo(f"graph written to {out}")


def _solver_options(default_time_limit_s: float) -> Callable:
    """--time-limit, --seed and --workers, the same on every solver command."""

    def decorate(func: Callable) -> Callable:
        func = click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
                            help="Solver threads.")(func)
        func = click.option("--seed", type=int, default=0, show_default=True, help="Solver random seed.")(func)
        return click.option("--time-limit", "time_limit", type=click.FloatRange(min=0, min_open=True),
                            default=default_time_limit_s, show_default=True,
                            help="Solver time limit in seconds.")(func)

    return decorate


@main.command("place")
@click.argument("instance", type=click.Path(dir_okay=False))
@_solver_options(default_time_limit_s=30.0)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the placement as JSON.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), help="Draw the floor plan (PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the placement as JSON.")
@_reported
def place_command(instance: str, time_limit: float, seed: int, workers: int, out: str | None,
                  plot: str | None, as_json: bool) -> None:
    """Place the cabinets on the floor under power and cooling; print the summary."""
    inst = read_instance(instance)
    result = pipeline.place_verified(derive(inst), SolveOptions(time_limit, seed, workers)).to_dict()
    if out:
        write_json_atomic(out, result)
    if plot:
        write_figure(plot, placement_figure(inst.name, inst.floor, result))
    click.echo(json.dumps(result, indent=2) if as_json else format_placement(result))
    if not as_json:
        for what, path in (("placement", out), ("plot", plot)):
            if path:
                click.echo(f"{what} written to {path}")


@main.command("provision")
@click.argument("instance", type=click.Path(dir_okay=False))
@_solver_options(default_time_limit_s=30.0)
@click.option("--json", "as_json", is_flag=True, help="Print the plan and bill of materials as JSON.")
@_reported
def provision_command(instance: str, time_limit: float, seed: int, workers: int, as_json: bool) -> None:
    """Size lanes, cable bundles and switches for the workload; print the plan and bill of materials."""
    plan = pipeline.provision_verified(derive(read_instance(instance)), SolveOptions(time_limit, seed, workers))
    click.echo(json.dumps(plan.to_dict(), indent=2) if as_json else format_provisioning(plan.to_dict()))

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
                   "ubmesh-xy, scatter-allgather, hierarchical:A/B/... (one line algorithm per "
                   "dimension), HCCL's Ring, Double-Ring, Mesh, Star, RHD, Pairwise, or auto "
                   "(repeatable; default auto).")
@click.option("--size", "sizes", multiple=True,
              help="Buffer per chip, e.g. 1GiB (repeatable; default: the workload's).")
@click.option("--model", default="flow", show_default=True, help="flow (max-min fair sharing) or alpha-beta.")
@click.option("--groups", default=None,
              help="all (default), board, rack, pod, or a layout tp=8,pp=8,dp=128[@axis].")
@click.option("--routing", default="structured", show_default=True,
              help="structured (dimension order where the family defines it) or shortest (every flow "
                   "over all shortest paths of the graph: naive routing).")
@click.option("--json", "as_json", is_flag=True, help="Print the records as a JSON list.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Draw bus bandwidth against size to this image file.")
@_reported
def score(target: str, collectives: tuple[str, ...], algorithms: tuple[str, ...], sizes: tuple[str, ...],
          model: str, groups: str | None, routing: str, as_json: bool, plot: str | None) -> None:
    """Time collectives on the fabric, against their bandwidth bounds."""
    inst = _scored_instance(target)
    try:
        size_bytes = [parse_size_bytes(s) for s in sizes] or list(inst.workload.sizes)
    except ValueError as exc:
        raise InstanceError(target, "--size", str(exc)) from None
    try:
        records = score_fabric(pipeline.build_fabric(inst), collectives or inst.workload.collectives, size_bytes,
                               algorithms or ("auto",), model, groups, routing)
    except InstanceError as exc:
        raise InstanceError(target, f"--{exc.field}", exc.message) from None
    if plot:
        write_figure(plot, plot_scores(records, inst.name))
    click.echo(json.dumps(records, indent=2) if as_json else format_scores(records))
    if plot and not as_json:
        click.echo(f"plot written to {plot}")


def _progress_printer(quiet: bool) -> Callable[[str], None]:
    """Stage progress on stderr when it is a terminal; silent with --quiet or when piped."""
    start = time.perf_counter()
    show = not quiet and sys.stderr.isatty()

    def emit(message: str) -> None:
        if show:
            click.echo(f"[{time.perf_counter() - start:7.1f} s] {message}", err=True)

    return emit


def _interrupt_on_sigterm() -> None:
    """A kill (SIGTERM) unwinds like Ctrl-C, so the atomic writer removes its temp file."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@main.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Result file [default: results/NAME.json].")
@_solver_options(default_time_limit_s=60.0)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--force", is_flag=True, help="Overwrite a result file that holds another instance's result.")
@_reported
def solve(instance: str, out: str | None, time_limit: float, seed: int, workers: int, quiet: bool,
          force: bool) -> None:
    """Run every stage (fabric, placement, provisioning, scoring) and write the result file."""
    _interrupt_on_sigterm()
    inst = read_instance(instance)
    target = out or f"results/{inst.name}.json"
    existing = existing_result_instance(target)
    if existing is not None and existing != inst.name and not force:
        raise InstanceError(target, "--out", f"holds the result of instance {existing!r}, not {inst.name!r}; "
                                             "pass --force to overwrite it")
    result = pipeline.solve(inst, file_sha256(instance), SolveOptions(time_limit, seed, workers),
                            _progress_printer(quiet))
    write_json_atomic(target, result)
    click.echo(format_solve(result, target))


def _read_result(path: str) -> dict:
    result = read_json(path)
    if not isinstance(result, dict) or "schema_version" not in result or "instance" not in result:
        raise InstanceError(path, "schema_version", "is not a topo-opt result file (run `topo-opt solve` first)")
    return result


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of per-design metrics.")
@_reported
def compare(results: tuple[str, ...], as_csv: bool, as_json: bool) -> None:
    """Compare result files side by side: a column per design."""
    loaded = [_read_result(p) for p in results]
    if as_json:
        click.echo(json.dumps([design_metrics(r) for r in loaded], indent=2))
    else:
        click.echo(compare_csv(loaded) if as_csv else compare_table(loaded), nl=not as_csv)


@main.command()
@click.argument("result", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Report directory [default: results/NAME-report].")
@_reported
def report(result: str, out_dir: str | None) -> None:
    """Write PNG figures and one self-contained HTML page for a result file."""
    data = _read_result(result)
    directory = Path(out_dir or f"results/{data['instance']['name']}-report")
    images = {}
    for name, title, figure in report_figures(data):
        png = write_figure(directory / f"{name}.png", figure)
        images[title] = png_data_uri(png)
    page = write_text_atomic(directory / "index.html", report_html(data, images))
    click.echo(f"report written to {page} ({len(images)} figures)")


@main.command("export")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["astra-sim"]), default="astra-sim", show_default=True,
              help="astra-sim: network.yml and system.json for ASTRA-sim's analytical backend.")
@_reported
def export_command(instance: str, directory: str, fmt: str) -> None:
    """Write the fabric in another tool's input format (dims, torus, UB-Mesh fabrics)."""
    config = astra_sim_config(pipeline.build_fabric(read_instance(instance)), instance)
    for path in write_astra_sim(directory, config.network, config.system, config.notes):
        click.echo(f"wrote {path}")
    for note in config.notes:
        click.echo(f"note: {note}")


if __name__ == "__main__":
    main()
