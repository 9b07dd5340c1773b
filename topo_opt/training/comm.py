"""Collective times for the step-time model, from the project's scorer, cached.

A layout's axis is a set of groups of `size` chips whose chip numbers differ only in the digit of
stride `stride` (tp: stride 1; dp: stride tp; pp: stride tp x dp). All groups of one axis run the
collective at once and share links, which is what `score_fabric(..., groups="…@axis")` times.
The groups depend only on (stride, size), so the cache key is (stride, size, algorithm,
collective, bytes) and the spec is written neutrally (`lo=8,g=64,hi=16@g`): two layouts whose
DP groups are the same chips share one scorer run.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from topo_opt.collectives import score_fabric
from topo_opt.collectives.groups import make_groups
from topo_opt.collectives.routing import network

Need = tuple[int, int, str, str, int]  # stride, size, algorithm, collective, size_bytes


def group_spec(chips: int, stride: int, size: int) -> str:
    """The scorer's groups spec for groups of `size` chips at chip-number stride `stride`."""
    terms = ([f"lo={stride}"] if stride > 1 else []) + [f"g={size}"]
    rest = chips // (stride * size)
    return ",".join(terms + ([f"hi={rest}"] if rest > 1 else [])) + "@g"


def score_groups(graph: nx.Graph, collectives: list[str], sizes: list[int], algorithm: str,
                 spec: str) -> list[dict]:
    """The one place `train` calls the scorer (flow model, structured routing)."""
    return score_fabric(graph, collectives, sizes, (algorithm,), "flow", spec, "structured")


def aligned(graph: nx.Graph, chips: int, stride: int, size: int) -> bool:
    """Whether the groups are whole dimensions of the fabric's product view (the scorer then uses
    its symmetry; otherwise it routes every flow, slow for large groups). True on fabrics of one
    dimension (a non-blocking fat-tree is a single switch), where there is nothing to align to."""
    view = network(graph).view
    if size == 1 or view is None or sum(k > 1 for k in view.sizes) < 2:
        return True
    return make_groups(network(graph), group_spec(chips, stride, size)).axes is not None


@dataclass
class ScorerTimes:
    """Collective times on one fabric graph; `prefetch` batches needs into one call per group."""

    graph: nx.Graph
    chips: int
    scorer: Callable = score_groups
    cache: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)  # key -> the scorer's record (algorithm chosen, bound)
    calls: int = 0

    def prefetch(self, needs: Iterable[Need]) -> None:
        todo: dict[tuple[int, int, str], tuple[set, set]] = {}
        for need in needs:
            if need not in self.cache:
                colls, sizes = todo.setdefault(need[:3], (set(), set()))
                colls.add(need[3])
                sizes.add(need[4])
        for (stride, size, algorithm), (colls, sizes) in sorted(todo.items()):
            self.calls += 1
            spec = group_spec(self.chips, stride, size)
            for rec in self.scorer(self.graph, sorted(colls), sorted(sizes), algorithm, spec):
                key = (stride, size, algorithm, rec["collective"], rec["size_bytes"])
                self.cache[key] = rec["time_s"]
                self.records[key] = rec

    def aligned(self, stride: int, size: int) -> bool:
        return aligned(self.graph, self.chips, stride, size)

    def time_s(self, stride: int, size: int, algorithm: str, collective: str, size_bytes: int) -> float:
        key = (stride, size, algorithm, collective, size_bytes)
        if key not in self.cache:
            self.prefetch([key])
        return self.cache[key]


class FreeComm:
    """Communication that takes no time: the compute-and-bubble floor of a layout."""

    calls = 0

    def prefetch(self, needs: Iterable[Need]) -> None:
        pass

    def aligned(self, stride: int, size: int) -> bool:
        return True

    def time_s(self, stride: int, size: int, algorithm: str, collective: str, size_bytes: int) -> float:
        return 0.0
