"""Shared measurement helpers: wall time and peak memory of a call in a fresh process."""

import json
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from topo_opt import __version__
from topo_opt.io import write_json_atomic

BENCH_DIR = Path("results/bench")


def _child(conn: Any, func: Callable, args: tuple) -> None:
    start = time.perf_counter()
    try:
        value = func(*args)
        wall = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send({"ok": True, "wall_s": wall, "peak_rss_mib": peak_kib / 1024, "value": value})
    except Exception as exc:  # reported in the bench file, not raised: one failing case must not hide the rest
        conn.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    conn.close()


def measure(func: Callable, *args: Any) -> dict:
    """Run func(*args) in a fresh process (so peak RSS is its own); returns wall_s, peak_rss_mib, value.

    The peak includes the interpreter and imports (~70-100 MiB), which the figures quoted count too.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, func, args))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def machine() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "tool_version": __version__,
            "commit": commit, "date": time.strftime("%Y-%m-%d")}


def write_bench(stage: str, cases: list[dict], **extra: Any) -> Path:
    data = {"stage": stage, "machine": machine(), **extra, "cases": cases}
    path = write_json_atomic(BENCH_DIR / f"{stage}.json", data)
    print(f"wrote {path}")
    print(json.dumps(cases, indent=1)[:4000])
    return path
