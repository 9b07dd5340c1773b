"""The `topo-opt` command line: thin commands over library calls; errors become one line."""

import functools
import json
import math
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
    read_model_named,
    read_result,
    read_yaml,
    write_astra_sim,
    write_figure,
    write_graph,
    write_json_atomic,
    write_text_atomic,
)
from topo_opt.optimize import SEARCH_ROOT, RunOptions, load_spec, run_search, write_search
from topo_opt.optimize.report import format_search, read_search, search_figures, search_html
from topo_opt.pipeline import SCHEMA_VERSION, result_consistency_errors
from topo_opt.plots import FIGURE_FORMATS, placement_figure
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
from topo_opt.resilience import cable_GBps, failure_space, format_resilience, parse_fail_spec, resilience_report
from topo_opt.solution import SolveOptions
from topo_opt.training.layout import parse_layout_text
from topo_opt.training.report import breakdown_figure, format_layout_search, format_step
from topo_opt.training.run import train
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
        except MemoryError as exc:  # a model larger than this machine: say so, not a traceback
            click.echo(f"error: out of memory ({exc or 'allocation failed'}); no result file was written", err=True)
            sys.exit(1)

    return wrapper


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


class _OneLineGroup(click.Group):
    """Click's own usage errors (bad option values, missing arguments) as one `error:` line too."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as exc:  # bare `topo-opt`: the help, as click prints it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo("error: " + " ".join(exc.format_message().split()), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted; no result file was written", err=True)
            sys.exit(130)
        if standalone_mode:
            sys.exit(code if isinstance(code, int) else 0)
        return code


# Option ranges (README, "Commands"): OR-Tools takes an int32 seed; a day is the longest time limit.
MAX_SEED = 2**31 - 1
MAX_TIME_LIMIT_S = 86_400.0
MAX_WORKERS = 64


class _FiniteFloatRange(click.FloatRange):
    """FloatRange that also refuses nan (every comparison with nan is false, so the range passes it)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class _FigurePath(click.Path):
    """An image file whose suffix is one of matplotlib's formats."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        path = super().convert(value, param, ctx)
        suffix = Path(str(path)).suffix.lstrip(".").lower()
        if suffix not in FIGURE_FORMATS:
            self.fail(f"{value!r} must end in one of matplotlib's formats: .{', .'.join(FIGURE_FORMATS)}",
                      param, ctx)
        return path


@click.group(cls=_OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed for sampled hop statistics.")
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
        func = click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=2, show_default=True,
                            help="Solver threads.")(func)
        func = click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                            help="Solver random seed.")(func)
        return click.option("--time-limit", "time_limit",
                            type=_FiniteFloatRange(min=0, min_open=True, max=MAX_TIME_LIMIT_S),
                            default=default_time_limit_s, show_default=True,
                            help="Solver time limit in seconds.")(func)

    return decorate


@main.command("place")
@click.argument("instance", type=click.Path(dir_okay=False))
@_solver_options(default_time_limit_s=30.0)
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the placement as JSON.")
@click.option("--plot", "plot", type=_FigurePath(dir_okay=False), help="Draw the floor plan (PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the placement as JSON.")
@_reported
def place_command(instance: str, time_limit: float, seed: int, workers: int, out: str | None,
                  plot: str | None, as_json: bool) -> None:
    """Place the cabinets on the floor under power and cooling; print the summary."""
    inst = read_instance(instance)
    _, result = pipeline.place_verified(derive(inst), SolveOptions(time_limit, seed, workers))
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
    _, plan = pipeline.provision_verified(derive(read_instance(instance)), SolveOptions(time_limit, seed, workers))
    click.echo(json.dumps(plan, indent=2) if as_json else format_provisioning(plan))

def _scored_instance(target: str):
    """An instance YAML, or a result JSON whose `instance.path` names one."""
    if not target.endswith(".json"):
        return read_instance(target)
    path = _read_result(target)["instance"]["path"]
    if not path:
        raise InstanceError(target, "instance.path", "is empty: a result file names its instance there")
    return read_instance(path)


@main.command()
@click.argument("target", metavar="INSTANCE|RESULT", type=click.Path(dir_okay=False))
@click.option("--collective", "collectives", multiple=True,
              help="all-reduce, reduce-scatter, all-gather, all-to-all, broadcast "
                   "(repeatable; default: the workload's).")
@click.option("--algorithm", "algorithms", multiple=True,
              help="ring, bidir-ring, tree, halving-doubling, direct, hierarchical, multi-dim, pairwise, "
                   "ubmesh-xy, scatter-allgather, tree-packing, hierarchical:A/B/... (one line algorithm per "
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
@click.option("--engine", default="auto", show_default=True,
              help="per-chip (the fabric's graph), structured (product fabrics from their description, no "
                   "graph: SuperCluster scale), or auto (structured for a SuperCluster or a graph over the "
                   "size limit).")
@click.option("--json", "as_json", is_flag=True, help="Print the records as a JSON list.")
@click.option("--plot", type=_FigurePath(dir_okay=False),
              help="Draw bus bandwidth against size to this image file.")
@_reported
def score(target: str, collectives: tuple[str, ...], algorithms: tuple[str, ...], sizes: tuple[str, ...],
          model: str, groups: str | None, routing: str, engine: str, as_json: bool, plot: str | None) -> None:
    """Time collectives on the fabric, against their bandwidth bounds."""
    inst = _scored_instance(target)
    try:
        size_bytes = [parse_size_bytes(s) for s in sizes] or list(inst.workload.sizes)
    except ValueError as exc:
        raise InstanceError(target, "--size", str(exc)) from None
    try:
        records = score_fabric(pipeline.build_fabric(inst), collectives or inst.workload.collectives, size_bytes,
                               algorithms or ("auto",), model, groups, routing, engine)
    except InstanceError as exc:
        raise InstanceError(target, f"--{exc.field}", exc.message) from None
    if plot:
        write_figure(plot, plot_scores(records, inst.name))
    click.echo(json.dumps(records, indent=2) if as_json else format_scores(records))
    if plot and not as_json:
        click.echo(f"plot written to {plot}")


@main.command("train")
@click.argument("target", metavar="INSTANCE|RESULT", type=click.Path(dir_okay=False))
@click.option("--model", "model_name", required=True,
              help="A shipped model (gpt3-175b, llama3-405b, deepseek-v3-671b, megatron-1t) or a model YAML file.")
@click.option("--layout", "layout_text", default=None,
              help="One layout, e.g. tp=8,pp=8,dp=128,sp=8,mb=1,recompute=selective,zero=1 (default: --search).")
@click.option("--search", "do_search", is_flag=True, help="Search the layouts (the default without --layout).")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Draw the stacked step-time breakdown (PNG).")
@_reported
def train_command(target: str, model_name: str, layout_text: str | None, do_search: bool, as_json: bool,
                  plot: str | None) -> None:
    """Step time of a model on the fabric: one layout's breakdown, or the layout search."""
    if layout_text and do_search:
        raise InstanceError(target, "--search", "give --layout or --search, not both")
    inst = _scored_instance(target)
    model = read_model_named(model_name)
    layout = parse_layout_text(layout_text, fabric_chip_count(inst.fabric)) if layout_text else None
    record = train(inst, model, layout)
    if plot:
        bars = [record["layout"]] if layout else record["search"]["top"]
        write_figure(plot, breakdown_figure(bars, f"{model.name} on {inst.name}"))
    if as_json:
        click.echo(json.dumps(record, indent=2))
    else:
        click.echo(format_step(record["layout"]) if layout else format_layout_search(record["search"]))
        if plot:
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
    """A result file checked against the schema, its version and its own cross references."""
    result = read_result(path, SCHEMA_VERSION)
    problems = result_consistency_errors(result)
    if problems:
        where, _, message = problems[0].partition(": ")
        raise InstanceError(path, where, message)
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
@click.argument("result", metavar="RESULT|SEARCH", type=click.Path())
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Report directory [default: results/NAME-report; a search: its directory's report/].")
@_reported
def report(result: str, out_dir: str | None) -> None:
    """Write PNG figures and one self-contained HTML page for a result file or a search."""
    if Path(result).is_dir() or Path(result).name == "search.json":
        _search_report(result, out_dir)
        return
    data = _read_result(result)
    directory = Path(out_dir or f"results/{data['instance']['name']}-report")
    images = {}
    for name, title, figure in report_figures(data):
        png = write_figure(directory / f"{name}.png", figure)
        images[title] = png_data_uri(png)
    page = write_text_atomic(directory / "index.html", report_html(data, images))
    click.echo(f"report written to {page} ({len(images)} figures)")


def _resilience_target(target: str):
    """(instance, bill of materials or None): a result file brings its provisioned BOM."""
    if not target.endswith(".json"):
        return read_instance(target), None
    data = _read_result(target)
    bom = ((data.get("provisioning") or {}).get("bom")) if isinstance(data.get("provisioning"), dict) else None
    if bom is not None and not (isinstance(bom, dict) and all(
            isinstance(bom.get(k, 0), int | float) and bom.get(k, 0) >= 0 for k in ("chips", "optical_modules"))):
        raise InstanceError(target, "provisioning.bom", "is not a bill of materials (re-run `topo-opt solve`)")
    return _scored_instance(target), bom


@main.command()
@click.argument("target", metavar="INSTANCE|RESULT", type=click.Path(dir_okay=False))
@click.option("--fail", "fail", default=None,
              help="links=K,chips=K,switches=K; K a count or a percentage such as 1% [default: links=1].")
@click.option("--scenario", type=click.Path(dir_okay=False),
              help="YAML naming the failed parts: links: [[u, v]], chips: [c], switches: [s] (node ids).")
@click.option("--trials", type=click.IntRange(min=1, max=100_000), default=100, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--collective", "collectives", multiple=True, help="Repeatable; default: the workload's.")
@click.option("--size", "sizes", multiple=True, help="Repeatable, e.g. 1GiB; default: the workload's.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_reported
def resilience(target: str, fail: str | None, scenario: str | None, trials: int, seed: int,
               collectives: tuple[str, ...], sizes: tuple[str, ...], as_json: bool) -> None:
    """Inject failures, repair what the design repairs, rescore; MTBF and availability."""
    if fail and scenario:
        raise InstanceError(target, "--scenario", "give either --fail or --scenario, not both")
    inst, bom = _resilience_target(target)
    try:
        size_bytes = [parse_size_bytes(s) for s in sizes] or list(inst.workload.sizes)
    except ValueError as exc:
        raise InstanceError(target, "--size", str(exc)) from None
    graph = pipeline.build_fabric(inst)
    named = read_yaml(scenario, "a scenario file") if scenario else None
    counts = None if scenario else parse_fail_spec(fail or "links=1", failure_space(graph, cable_GBps(inst)))
    try:
        report_data = resilience_report(inst, graph, bom, counts, named, trials, seed,
                                        collectives or inst.workload.collectives, size_bytes, scenario or "")
    except InstanceError as exc:
        if exc.file == (scenario or ""):
            raise
        raise InstanceError(target, f"--{exc.field}", exc.message) from None
    click.echo(json.dumps(report_data, indent=2) if as_json else format_resilience(report_data))


# --- optimize ------------------------------------------------------------------------------------

def _search_progress() -> Callable[[dict], None] | None:
    """A one-line progress bar on stderr (done / total, best so far, ETA) when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def emit(p: dict) -> None:
        total = max(p["total"], p["done"], 1)
        bar = "#" * int(30 * p["done"] / total)
        best = f"best {p['best'][0] * 1e3:.3f} ms ({p['best'][1]})" if p["best"] else "best -"
        eta = f"ETA {p['eta_s']:.0f} s" if p["eta_s"] is not None else "ETA -"
        click.echo(f"\r[{bar:<30}] {p['done']}/{total} {best} {eta}   ", err=True, nl=False)

    return emit


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--engine", default="local", show_default=True, help="local (process pool) or ray.")
@click.option("--address", default=None, help="Ray cluster to join (from `ray start --head`); --engine ray only.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1, max=512),
              help="Parallel screening tasks (local processes or Ray CPUs).")
@click.option("--budget", default=None, type=click.IntRange(min=1), help="Screened candidates at most "
              "[default: the spec's search.budget]; a larger space is searched by NSGA-II.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0, max=2**31 - 1))
@click.option("--resume", is_flag=True, help="Reuse the cached candidates of an interrupted run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="[default: results/search/NAME]")
@_reported
def optimize(spec: str, engine: str, address: str | None, workers: int, budget: int | None, seed: int,
             resume: bool, out_dir: str | None) -> None:
    """Search the spec's design space under its caps; write search.json with the front and the recommendation."""
    _interrupt_on_sigterm()
    parsed, sha = load_spec(spec)
    directory = Path(out_dir) if out_dir else SEARCH_ROOT / parsed.name
    progress = _search_progress()
    doc = run_search(parsed, sha, directory, RunOptions(engine, workers, address, budget, seed, resume), progress)
    if progress:
        click.echo("", err=True)
    path = write_search(directory, doc)
    click.echo(format_search(doc, str(path)))


def _search_report(target: str, out_dir: str | None) -> None:
    path = Path(target) / "search.json" if Path(target).is_dir() else Path(target)
    doc = read_search(path)
    directory = Path(out_dir) if out_dir else path.parent / "report"
    images = {title: png_data_uri(write_figure(directory / f"{name}.png", fig)) for name, title, fig in
              search_figures(doc)}
    link = None
    rec = doc["recommendation"]
    if rec and rec["result"]:
        data = _read_result(str(path.parent / rec["result"]))
        sub = directory / "recommended"
        sub_images = {title: png_data_uri(write_figure(sub / f"{name}.png", fig))
                      for name, title, fig in report_figures(data)}
        write_text_atomic(sub / "index.html", report_html(data, sub_images))
        link = "recommended/index.html"
    page = write_text_atomic(directory / "index.html", search_html(doc, images, link))
    click.echo(f"report written to {page} ({len(images)} figures{', recommended design linked' if link else ''})")


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
