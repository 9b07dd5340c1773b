"""`run_search`: candidates -> screening (cached) -> Pareto front -> finalists -> recommendation.

Method. A space of at most `budget` candidates is enumerated (exhaustive). A larger one is searched
by optuna's NSGA-II (`NSGAIISampler(seed=...)`, one categorical per family and parameter, cap
excesses as constraints) through its ask-and-tell interface in batches of `search.batch` trials,
told in trial order, so the sequence of proposals depends on the seed alone, not on the engine,
the worker count or completion order; it stops after `budget` distinct screened candidates.

Cache. Every finished task is written to `DIR/cache/KEY.json` as it completes, KEY = sha256 of the
task (instance mapping, cabinet template, caps, options, tool version); `resume` reads those back
and evaluates only the missing ones. Without `resume` everything is evaluated afresh.
"""

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import jsonschema

from topo_opt import __version__
from topo_opt.io import read_json_if_valid, read_search_schema, write_json_atomic
from topo_opt.optimize.candidates import Candidate, all_candidates, candidate_at, check_space, space_size
from topo_opt.optimize.engines import make_engine
from topo_opt.optimize.pareto import pareto_front, recommendation_order, recommendation_reason
from topo_opt.optimize.screen import finalise, objectives_of, screen
from topo_opt.optimize.spec import OBJECTIVES, SearchSpec

SCHEMA_VERSION = "1.0"
SCREEN_OPTIONS = {"time_limit_s": 30.0, "seed": 0, "workers": 1}  # provisioning MIP (SCIP, deterministic)
RUN_KEYS = ("run",)  # how the search ran (engine, workers, cache hits, wall time), not what it found

Progress = Callable[[dict], None]


@dataclass(frozen=True)
class RunOptions:
    engine: str = "local"
    workers: int = 1
    address: str | None = None
    budget: int | None = None  # None: the spec's search.budget
    seed: int = 0
    resume: bool = False


def _key(task: dict) -> str:
    """sha256 of what the task computes from (its output directory aside) and the tool version."""
    what = {k: v for k, v in task.items() if k != "out_dir"}
    return hashlib.sha256(json.dumps({**what, "tool_version": __version__}, sort_keys=True).encode()).hexdigest()


class _Evaluator:
    """Runs tasks on the engine through the cache and reports progress."""

    def __init__(self, out_dir: Path, run: RunOptions, progress: Progress | None):
        self.cache_dir = out_dir / "cache"
        self.run_options = run
        self.engine = make_engine(run.engine, run.workers, run.address)
        self.progress = progress
        self.evaluated = self.from_cache = 0
        self.done = 0
        self.total = 0
        self.best: tuple[float, str] | None = None
        self.start = time.perf_counter()

    def __call__(self, fn: Callable, tasks: list[dict], keys: list[str]) -> list[dict]:
        out: list[dict | None] = [None] * len(tasks)
        missing = []
        for i, key in enumerate(keys):
            hit = read_json_if_valid(self.cache_dir / f"{key}.json") if self.run_options.resume else None
            if hit is not None and hit.get("cache_key") == key:
                out[i] = hit
                self.from_cache += 1
                self._tick(hit)
            else:
                missing.append(i)
        for j, result in self.engine.run(fn, [tasks[i] for i in missing]):
            i = missing[j]
            result = {**result, "cache_key": keys[i]}
            write_json_atomic(self.cache_dir / f"{keys[i]}.json", result)
            out[i] = result
            self.evaluated += 1
            self._tick(result)
        return out  # type: ignore[return-value]

    def _tick(self, record: dict) -> None:
        self.done += 1
        obj = record.get("objectives")
        if record.get("status") == "ok" and obj and (self.best is None or obj["comm_time_s"] < self.best[0]):
            self.best = (obj["comm_time_s"], record["id"])
        if self.progress:
            elapsed = time.perf_counter() - self.start
            rate = self.evaluated / elapsed if self.evaluated else 0.0
            left = max(0, self.total - self.done)
            self.progress({"done": self.done, "total": self.total, "best": self.best,
                           "eta_s": left / rate if rate else None})


def _screen_task(spec: SearchSpec, cand: Candidate) -> dict:
    return {"id": cand.id, "family": cand.family, "params": cand.params, "mapping": cand.mapping,
            "interconnect": spec.cabinets.get("interconnect"),
            "caps": [asdict(c) for c in spec.caps], "options": SCREEN_OPTIONS}


def _invalid_record(cand: Candidate) -> dict:
    return {"id": cand.id, "family": cand.family, "params": cand.params, "status": "rejected",
            "reason": f"invalid: {cand.invalid}", "objectives": None}


def _screen_all(spec: SearchSpec, cands: list[Candidate], evaluate: _Evaluator, records: dict) -> None:
    todo = [c for c in cands if c.mapping is not None and c.id not in records]
    for c in cands:
        if c.mapping is None:
            records.setdefault(c.id, _invalid_record(c))
    tasks = [_screen_task(spec, c) for c in todo]
    for rec in evaluate(screen, tasks, [_key(t) for t in tasks]):
        records[rec["id"]] = rec


def _exhaustive(spec: SearchSpec, evaluate: _Evaluator) -> dict:
    cands = list(all_candidates(spec))
    evaluate.total = sum(c.mapping is not None for c in cands)
    records: dict = {}
    _screen_all(spec, cands, evaluate, records)
    return records


def _screened(records: dict) -> int:
    return sum(1 for r in records.values() if not r["reason"].startswith("invalid:"))


def _nsga2(spec: SearchSpec, budget: int, seed: int, evaluate: _Evaluator) -> dict:
    import optuna  # only the NSGA-II path needs it
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    keys = spec.search.objectives
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.NSGAIISampler(
            population_size=spec.search.population, seed=seed,
            constraints_func=lambda t: t.user_attrs.get("violation", [0.0]))
        study = optuna.create_study(directions=["minimize"] * len(keys), sampler=sampler)
    families = [f for f, _ in spec.space]
    grids = dict(spec.space)
    evaluate.total = budget
    records: dict = {}
    proposed = 0
    while _screened(records) < budget and proposed < 20 * budget:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trials = [study.ask() for _ in range(spec.search.batch)]
            cands = []
            for t in trials:
                family = t.suggest_categorical("family", families)
                choice = tuple(t.suggest_categorical(f"{family}.{name}", list(range(len(values))))
                               for name, values in grids[family])
                cands.append(candidate_at(spec, family, choice))
        room = budget - _screened(records)
        fresh: list[Candidate] = []
        for c in cands:
            valid = sum(f.mapping is not None for f in fresh)
            if c.id not in records and c.id not in {f.id for f in fresh} and (c.mapping is None or valid < room):
                fresh.append(c)
        _screen_all(spec, fresh, evaluate, records)
        for t, c in zip(trials, cands, strict=True):
            rec = records.get(c.id)
            if rec is None or rec["objectives"] is None:
                study.tell(t, state=TrialState.FAIL)
                continue
            t.set_user_attr("violation", [ch["over_by"] / ch["limit"] for ch in rec["caps"]] or [0.0])
            study.tell(t, [rec["objectives"][k] for k in keys])
        proposed += len(trials)
    return records


def _finalist_summary(task: dict, fin: dict) -> dict:
    """What search.json keeps of a finalist: placement report and the objectives at the placed layout."""
    result = fin["result"]
    if result is None:
        return {"status": fin["status"], "reason": fin["reason"], "result": None}
    wl = {tuple(pair) for pair in task["workload"]}
    scores = [r for r in result["scores"] if (r["collective"], r["size_bytes"]) in wl]
    p = result["stages"]["placement"]
    return {"status": "ok", "reason": None, "result": f"finalists/{task['id']}.json",
            "placement": {k: p[k] for k in ("status", "objective", "bound", "gap", "time_limit_s", "seed")},
            "placed_objectives": objectives_of(task["mapping"], result["provisioning"]["bom"], scores)}


def _finalists(spec: SearchSpec, records: dict, seed: int, evaluate: _Evaluator, out_dir: Path) -> dict:
    """Place the front's leading designs (recommendation order), dropping those placement rejects and
    re-deriving the front until the first `finalists` of it have all been placed."""
    keys, within = spec.search.objectives, spec.search.recommend_within
    ok = {i: r["objectives"] for i, r in records.items() if r["status"] == "ok"}
    placed: dict[str, dict] = {}
    options = {"time_limit_s": spec.search.finalist_time_limit_s, "seed": seed, "workers": 1}
    while True:
        order = recommendation_order(ok, pareto_front(ok, keys), within)[:spec.search.finalists]
        todo = [i for i in order if i not in placed]
        if not todo:
            return placed
        tasks = [{"id": i, "mapping": records[i]["mapping"], "options": options, "stage": "finalise",
                  "out_dir": str(out_dir),
                  "workload": sorted({(r["collective"], r["size_bytes"]) for r in records[i]["scores"]})}
                 for i in todo]
        evaluate.total += len(tasks)
        for i, fin in zip(todo, evaluate(finalise_to_file, tasks, [_key(t) for t in tasks]), strict=True):
            placed[i] = {k: v for k, v in fin.items() if k not in ("id", "cache_key")}
            if fin["status"] != "ok":
                records[i] = {**records[i], "status": "rejected", "reason": fin["reason"]}
                ok.pop(i)


def finalise_to_file(task: dict) -> dict:
    """finalise, with the full result written to OUT_DIR/finalists/ID.json in the worker (results are
    large; only the summary travels back). A module-level function, so Ray can run it as a task."""
    fin = finalise(task)
    if fin["result"] is not None:
        write_json_atomic(Path(task["out_dir"]) / "finalists" / f"{task['id']}.json", fin["result"])
    return {"id": task["id"], **_finalist_summary(task, fin)}


def run_search(spec: SearchSpec, spec_sha256: str, out_dir: Path, run: RunOptions,
               progress: Progress | None = None) -> dict:
    """The whole search; returns the search.json document (validated, written by the caller via io)."""
    check_space(spec)
    start = time.perf_counter()
    budget = run.budget or spec.search.budget
    size = space_size(spec)
    method = "exhaustive" if size <= budget else "nsga2"
    evaluate = _Evaluator(out_dir, run, progress)
    try:
        records = _exhaustive(spec, evaluate) if method == "exhaustive" else _nsga2(spec, budget, run.seed, evaluate)
        placed = _finalists(spec, records, run.seed, evaluate, out_dir)
    finally:
        evaluate.engine.close()
    doc = search_document(spec, spec_sha256, records, placed, method, budget, size, run)
    doc["run"] = {"engine": run.engine, "workers": run.workers, "address": run.address, "resume": run.resume,
                  "evaluated": evaluate.evaluated, "from_cache": evaluate.from_cache,
                  "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "wall_s": time.perf_counter() - start}
    errors = search_errors(doc)
    if errors:
        raise ValueError(f"search.json fails its schema: {errors[0]}")
    return doc


def search_document(spec: SearchSpec, spec_sha256: str, records: dict, placed: dict, method: str,
                    budget: int, size: int, run: RunOptions) -> dict:
    keys, within = spec.search.objectives, spec.search.recommend_within
    ok = {i: r["objectives"] for i, r in records.items() if r["status"] == "ok"}
    front = pareto_front(ok, keys)
    order = [i for i in recommendation_order(ok, front, within) if placed.get(i, {}).get("status") == "ok"]
    candidates = [{"id": i, "family": r["family"], "params": r["params"], "status": r["status"],
                   "reason": r["reason"] or None, "objectives": r["objectives"],
                   "result": f"cache/{r['cache_key']}.json" if "cache_key" in r else None,
                   "finalist": placed.get(i)} for i, r in sorted(records.items())]
    by_id = {c["id"]: c for c in candidates}
    rec = None
    if order:
        chosen = order[0]
        rec = {**{k: by_id[chosen][k] for k in ("id", "family", "params", "objectives")},
               "reason": recommendation_reason(ok, front, chosen, within), "result": placed[chosen]["result"],
               "placed": placed[chosen]}
    counts = {"space": size, "candidates": len(candidates), "screened": _screened(records),
              "ok": len(ok), "rejected": len(candidates) - len(ok),
              "families": sorted({c["family"] for c in candidates if c["objectives"] is not None})}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "spec": {"name": spec.name, "path": spec.source_file, "sha256": spec_sha256, "chips": spec.chips,
                 "description": spec.description},
        "method": {"name": method, "budget": budget, "seed": run.seed, "batch": spec.search.batch,
                   "population": spec.search.population,
                   "library": f"optuna {metadata.version('optuna')} NSGAIISampler" if method == "nsga2" else None,
                   "screening": "build, provision_nominal (row-major), score at the workload's sizes",
                   "finalists": spec.search.finalists, "finalist_time_limit_s": spec.search.finalist_time_limit_s},
        "objectives": {k: {"unit": OBJECTIVES[k][0], "meaning": OBJECTIVES[k][1], "front": k in keys}
                       for k in OBJECTIVES},
        "caps": [{"cap": c.name, "objective": c.objective, "limit": c.limit, "as_written": c.text} for c in spec.caps],
        "counts": counts,
        "candidates": candidates,
        "front": [{k: by_id[i][k] for k in ("id", "family", "params", "objectives")}
                  for i in sorted(front, key=lambda i: (ok[i]["network_cost_usd"], i))],
        "recommendation": rec,
    }


def search_errors(doc: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(read_search_schema())
    return [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]


def strip_run(doc: dict) -> dict:
    """search.json without the `run` block: what must be identical across engines and workers."""
    return {k: v for k, v in doc.items() if k not in RUN_KEYS}
