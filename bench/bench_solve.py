"""`topo-opt solve INSTANCE --time-limit 120` end to end on Atlas 960 and Atlas 950, as a user runs it:
wall time and peak memory of the command (its own process), and each stage's status and gap."""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import measure, write_bench

INSTANCES = ("instances/atlas960-superpod.yaml", "instances/atlas950-superpod.yaml")
TIME_LIMIT_S = 120


def _solve_command(path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "topo_opt.cli", "solve", path, "--out", str(out),
                               "--time-limit", str(TIME_LIMIT_S), "--seed", "0", "--workers", "2", "--quiet"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise RuntimeError(proc.stderr.strip())
        result = json.loads(out.read_text())
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = {name: {k: s.get(k) for k in ("status", "objective", "bound", "gap", "wall_s")}
              for name, s in result["stages"].items()}
    return {"command_wall_s": wall, "command_peak_rss_mib": peak_mib, "stages": stages}


def main() -> None:
    cases = []
    for path in INSTANCES:
        run = measure(_solve_command, path)
        cases.append({"instance": path, "time_limit_s": TIME_LIMIT_S, **run.get("value", {}),
                      "error": run.get("error")})
    write_bench("solve", cases, note="command_* measure the `topo-opt solve` process itself (peak = its max RSS); "
                                     "limits: <= 150 s wall, <= 3 GiB peak on 2 cores")
