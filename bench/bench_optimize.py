"""Optimize benchmarks (results/bench/optimize.json).

- throughput: the same 8 Atlas 950 candidates (UB-Mesh and torus, each fully provisioned and scored)
  screened with 1 and 2 local workers: candidates per minute and the ratio;
- question: `topo-opt optimize instances/search/atlas950.yaml --workers 2` as a fresh process (the
  `make optimize` run; its output is the committed results/search/atlas950/): wall time, candidates,
  peak memory of the largest process (getrusage RUSAGE_CHILDREN) and of the whole process tree
  (VmRSS summed over the process and its workers, sampled every 0.5 s).
Limits (issue 11): the question <= 10 min on 2 cores, <= 4 GiB peak.
"""

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import write_bench
from topo_opt.optimize import load_spec
from topo_opt.optimize.candidates import all_candidates
from topo_opt.optimize.engines import make_engine
from topo_opt.optimize.screen import screen
from topo_opt.optimize.search import SCREEN_OPTIONS

QUESTION = "instances/search/atlas950.yaml"
OUT = "results/search/atlas950"
THROUGHPUT_IDS = ("ub-mesh-00000", "ub-mesh-00004", "ub-mesh-00008", "ub-mesh-00013", "ub-mesh-00022",
                  "ub-mesh-00031", "torus-00000", "torus-00005")


def _tasks() -> list[dict]:
    spec, _ = load_spec(QUESTION)
    caps = [{"name": c.name, "objective": c.objective, "limit": c.limit} for c in spec.caps]
    return [{"id": c.id, "family": c.family, "params": c.params, "mapping": c.mapping,
             "interconnect": spec.cabinets.get("interconnect"), "caps": caps, "options": SCREEN_OPTIONS}
            for c in all_candidates(spec) if c.id in THROUGHPUT_IDS]


def _throughput(workers: int) -> dict:
    tasks = _tasks()
    engine = make_engine("local", workers)
    start = time.perf_counter()
    statuses = [r["status"] for _, r in engine.run(screen, tasks)]
    wall = time.perf_counter() - start
    engine.close()
    return {"workers": workers, "candidates": len(tasks), "wall_s": wall,
            "candidates_per_min": 60 * len(tasks) / wall, "ok": statuses.count("ok")}


def _tree_rss_kib(pid: int) -> int:
    """Sum of VmRSS over a process and its descendants (pages shared after fork counted in each: an upper bound)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _question() -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "topo_opt.cli", "optimize", QUESTION, "--workers", "2",
                             "--out", OUT], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tree_peak_kib = 0
    while proc.poll() is None:
        tree_peak_kib = max(tree_peak_kib, _tree_rss_kib(proc.pid))
        time.sleep(0.5)
    stderr = proc.stderr.read()
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode:
        return {"error": stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {proc.returncode}"}
    doc = json.loads(Path(OUT, "search.json").read_text())
    screened = [c for c in doc["candidates"] if not (c["reason"] or "").startswith("invalid:")]
    return {"command": f"topo-opt optimize {QUESTION} --workers 2", "wall_s": wall,
            "largest_process_peak_rss_mib": max(peak_kib, before) / 1024,
            "whole_run_sampled_peak_rss_mib": tree_peak_kib / 1024,
            "candidates": doc["counts"]["candidates"], "screened": len(screened),
            "fully_scored": sum(1 for c in screened if c["objectives"] is not None),
            "families": doc["counts"]["families"], "front": len(doc["front"]),
            "recommendation": doc["recommendation"]["id"] if doc["recommendation"] else None,
            "search_wall_s": doc["run"]["wall_s"]}


def main() -> None:
    runs = [_throughput(1), _throughput(2)]
    ratio = runs[1]["candidates_per_min"] / runs[0]["candidates_per_min"]
    question = _question()
    write_bench("optimize", [{"case": "throughput", "runs": runs, "speedup_2_over_1": ratio},
                             {"case": "atlas950 question", **question}],
                note="throughput: 8 fully screened Atlas 950 candidates in one process (1 worker inline, 2 "
                     "a fork pool); question: the whole search as a fresh process, peak RSS from getrusage "
                     "(RUSAGE_CHILDREN: the largest of the process and its workers) and the whole process tree's "
                     "RSS sampled every 0.5 s (summed over processes, so pages shared after fork count "
                     "twice: an upper bound); "
                     "limits <= 600 s and <= 4 GiB; the machine's 2 cores are shared, so wall times "
                     "include other load")
