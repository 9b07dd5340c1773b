"""Engines that run screening and finalising tasks: inline (1 worker), a local process pool, or Ray.

`run(fn, tasks)` yields (index, result) as tasks finish; callers key results by candidate id and
sort, so nothing depends on completion order.
"""

import multiprocessing as mp
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from topo_opt.errors import InstanceError

ENGINES = ("local", "ray")


class LocalEngine:
    """`workers` processes (fork: workers inherit the imported modules); 1 runs inline."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) if workers > 1 else None

    def run(self, fn: Callable, tasks: list) -> Iterator[tuple[int, object]]:
        if self._pool is None:
            for i, t in enumerate(tasks):
                yield i, fn(t)
            return
        futures = {self._pool.submit(fn, t): i for i, t in enumerate(tasks)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


class RayEngine:
    """The same tasks as Ray tasks: a local Ray with `workers` CPUs, or the cluster at `address`."""

    def __init__(self, workers: int, address: str | None):
        try:
            import ray
        except ImportError:
            raise InstanceError("--engine", "", "ray: Ray is not installed: pip install -e '.[ray]'") from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            kwargs = {"address": address} if address else {"num_cpus": workers}
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
        self._remote: dict = {}

    def run(self, fn: Callable, tasks: list) -> Iterator[tuple[int, object]]:
        ray = self._ray
        remote = self._remote.setdefault(fn, ray.remote(fn))
        pending = {remote.remote(t): i for i, t in enumerate(tasks)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            yield pending.pop(done[0]), ray.get(done[0])

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def make_engine(name: str, workers: int, address: str | None = None) -> LocalEngine | RayEngine:
    if name not in ENGINES:
        raise InstanceError("--engine", "", f"unknown engine {name!r} (one of {', '.join(ENGINES)})")
    if address and name != "ray":
        raise InstanceError("--address", "", "only --engine ray joins a cluster")
    return RayEngine(workers, address) if name == "ray" else LocalEngine(workers)
