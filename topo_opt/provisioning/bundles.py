"""Link bundles: the fabric's links grouped by the cable run they share, with length and medium.

A bundle is every link of one edge kind between the same two ends: two cabinets (a run across the
floor, length `physical.cable_length_m` between their slots), or two boards / switches inside one
cabinet (`INTRA_CABINET_LENGTH_M`). Links between chips of the same board are board traces
(`PCB`: no cable). A bundle's bandwidth scales with its link class's lanes per chip; it needs
ceil(bandwidth / medium bandwidth) cables of the cheapest medium (per GB/s) that reaches
(`physical.cheapest_medium`, priced per reach class); each costs the medium's fixed parts plus its
per-metre price times the run's length.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.instance import Instance
from topo_opt.netspec import NetworkSpec
from topo_opt.physical import cable_length_m, cheapest_medium

INTRA_CABINET_LENGTH_M = 1.0  # assumed: board-to-board and board-to-switch runs inside a rack
PCB = "pcb"


@dataclass(frozen=True)
class Bundle:
    kind: str
    link_class: str
    cabinets: tuple[int, int]  # (a, a) inside one cabinet
    links: int
    nominal_GBps: float  # per direction, at the class's nominal lanes per chip
    length_m: float
    medium: str  # a medium name, or PCB


@dataclass(frozen=True)
class BundleGroup:
    """Bundles the model gives one integer cable count: same class, kind, medium and bandwidth.
    `length_m` is the sum of their runs' lengths (what the medium's per-metre price multiplies)."""

    link_class: str
    kind: str
    medium: str
    nominal_GBps: float
    count: int
    length_m: float = 0.0

    @property
    def key(self) -> tuple[str, str, str, float]:
        return self.link_class, self.kind, self.medium, self.nominal_GBps


def row_major_slots(instance: Instance, cabinets: int) -> tuple[int, ...]:
    """Standalone layout: cabinet i in slot i (slots numbered row by row)."""
    floor = instance.floor
    if cabinets > floor.rows * floor.slots_per_row:
        raise InstanceError(instance.source_file, "floor",
                            f"{cabinets} cabinets do not fit {floor.rows} x {floor.slots_per_row} slots")
    return tuple(range(cabinets))


def cable_bundles(instance: Instance, graph: nx.Graph, node_cab: np.ndarray, spec: NetworkSpec,
                  slot_of_cabinet: Sequence[int]) -> tuple[Bundle, ...]:
    """Every bundle of the fabric's links that belong to a link class, sorted."""
    class_of = spec.class_of_kind()
    board = np.array([d.get("board", -1) for _, d in sorted(graph.nodes(data=True))], dtype=np.int64)
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0.0])
    for u, v, d in graph.edges(data=True):
        if d["kind"] not in class_of:
            continue
        a, b = int(node_cab[u]), int(node_cab[v])
        if a != b:
            key = (d["kind"], min(a, b), max(a, b), -1, -1)
        else:
            eu = int(board[u]) if board[u] >= 0 else -2 - u  # a node off any board is its own end
            ev = int(board[v]) if board[v] >= 0 else -2 - v
            key = (d["kind"], a, a, min(eu, ev), max(eu, ev))
        acc = sums[key]
        acc[0] += 1
        acc[1] += d["bandwidth_GBps"]
    out = []
    for (kind, a, b, ea, eb), (links, bw) in sorted(sums.items()):
        on_board = a == b and ea == eb and ea >= 0
        length = cable_length_m(instance.floor, slot_of_cabinet[a], slot_of_cabinet[b]) if a != b \
            else INTRA_CABINET_LENGTH_M
        medium = PCB if on_board else _medium(instance, length, a, b)
        out.append(Bundle(kind, class_of[kind], (a, b), links, bw, length, medium))
    return tuple(out)


def _medium(instance: Instance, length_m: float, a: int, b: int) -> str:
    medium = cheapest_medium(instance.media, length_m)
    if medium is None:
        longest = max(instance.media, key=lambda m: m.reach_m)
        raise InfeasibleError(f"media: no medium reaches {length_m:.1f} m (cabinets {a} and {b}); "
                              f"the longest reach is {longest.reach_m:g} m ({longest.name})")
    return medium.name


def group_key(b: Bundle) -> tuple[str, str, str, float]:
    return b.link_class, b.kind, b.medium, round(b.nominal_GBps, 9)


def bundle_groups(bundles: tuple[Bundle, ...]) -> tuple[BundleGroup, ...]:
    counts: dict[tuple, int] = defaultdict(int)
    lengths: dict[tuple, float] = defaultdict(float)
    for b in bundles:
        if b.medium != PCB:
            counts[group_key(b)] += 1
            lengths[group_key(b)] += b.length_m
    return tuple(BundleGroup(c, k, m, bw, n, lengths[c, k, m, bw]) for (c, k, m, bw), n in sorted(counts.items()))


def cables_needed(bundle_GBps: float, medium_GBps: float) -> int:
    """Cables a bundle needs; a tolerance keeps exact multiples from rounding up."""
    return math.ceil(bundle_GBps / medium_GBps - 1e-9) if bundle_GBps > 0 else 0
