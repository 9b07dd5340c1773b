"""Run every benchmark module `bench/bench_<stage>.py` (or those named on the command line)."""

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> None:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    wanted = [f"bench_{a}" for a in argv] or names
    for name in wanted:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
