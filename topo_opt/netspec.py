"""The provisioning model's view of a fabric: the data types every family's `network_spec`
returns, and the small builders the families share. No solver and no instance parsing here, so
family modules, provisioning and the verifier's callers can all import it.

- **levels**: the dimensions traffic crosses (see `provisioning.traffic`);
- **link classes**: what the model decides, lanes per chip. Each class owns the fabric's edge
  kinds that scale with it, takes `budget_lanes` of the chip's lane budget per lane (none for
  ports off the chip: NICs, router-to-router links), and keeps at least one lane (the family's
  connectivity). A `fixed` class stays at its nominal lanes;
- **resources**: per-chip, per-direction capacities in GB/s, linear in the lanes;
- **routes**: for each (level, pattern), the resources a byte uses and how many times; the first
  route is the dimension-ordered default, later ones detours;
- **switch tiers**: switches needed per unit (pod, rack) >= ports needed / ports per switch.

Because every chip of these fabrics sees the same neighbourhood, per-chip quantities are exact
group-level aggregates: a level's bundle between two cabinets is (chips in the bundle) x
(lanes per chip on the level) / (peers per chip).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from topo_opt.catalog import SWITCHES, SwitchType
from topo_opt.errors import InstanceError

SCOPES = ("board", "cabinet", "group", "global")
PATTERNS = ("exchange", "neighbour")


@dataclass(frozen=True)
class Level:
    """One dimension of the fabric as traffic sees it; `scope` indexes SCOPES."""

    name: str
    size: int
    shape: str  # full-mesh | ring | switch
    scope: int
    nested: bool = False  # a switch tier reaching every chip below it (outermost levels only)
    crossed_always: bool = False  # a product level the nested levels do not bypass


def route_factor(shape: str, pattern: str, size: int) -> float:
    """Link-direction load per byte carried on a level's own links (direct routes).

    Ring, exchange: mean shortest-path hops, n^2 / (4 (n - 1)) for even n, (n + 1) / 4 for odd n
    (every path takes at least that many hops and shortest paths load the links evenly).
    Full mesh, neighbour (a pipeline chain over a mesh whose lanes are spread evenly over the n - 1
    peers, two of them the neighbours): 2 - 1 / ceil(n / 2) per byte of the average chip,
    the exact max-concurrent flow of the chain with direct and detour paths (found by LP for
    n = 3..13 and checked in the tests). Everything else is one hop.
    """
    if shape == "ring" and pattern == "exchange" and size > 2:
        return size * size / (4 * (size - 1)) if size % 2 == 0 else (size + 1) / 4
    if shape == "full-mesh" and pattern == "neighbour" and size > 2:
        return 2 - 1 / ((size + 1) // 2)
    return 1.0


@dataclass(frozen=True)
class LinkClass:
    name: str
    lane_GBps: float  # per lane (a Clos plane: per switch port), per direction
    nominal_lanes: float  # per chip, as the instance's fabric has them
    lanes_min: float
    lanes_max: float
    budget_lanes: float  # chip lanes one lane of this class takes from the budget
    kinds: tuple[str, ...]  # fabric edge kinds whose bandwidth scales with this class
    fixed: bool = False


@dataclass(frozen=True)
class Resource:
    name: str
    terms: tuple[tuple[str, float], ...]  # (class, GB/s per chip per lane of the class)


@dataclass(frozen=True)
class Route:
    level: str
    pattern: str
    name: str
    uses: tuple[tuple[str, float], ...]  # (resource, GB/s drawn per GB/s carried)


@dataclass(frozen=True)
class SwitchTier:
    name: str
    switch: SwitchType
    units: int  # blocks that need their own switches (pods for HRS leaves, racks for LRS)
    ports_per_switch: int  # ports of one switch the tier fills (a leaf's down ports)
    terms: tuple[tuple[str, float], ...]  # ports needed per unit = sum coeff x lanes of the class


@dataclass(frozen=True)
class NetworkSpec:
    family: str
    chips: int
    levels: tuple[Level, ...]
    classes: tuple[LinkClass, ...]
    resources: tuple[Resource, ...]
    routes: tuple[Route, ...]
    tiers: tuple[SwitchTier, ...]
    lane_budget: float
    notes: tuple[str, ...] = ()

    def link_class(self, name: str) -> LinkClass:
        return next(c for c in self.classes if c.name == name)

    def class_of_kind(self) -> dict[str, str]:
        return {kind: c.name for c in self.classes for kind in c.kinds}


def capacities_GBps(spec: NetworkSpec, lanes: dict[str, float]) -> dict[str, float]:
    """Per-chip, per-direction capacity of every resource for the given lanes per class."""
    return {r.name: sum(coeff * lanes[c] for c, coeff in r.terms) for r in spec.resources}


def budget_used(spec: NetworkSpec, lanes: dict[str, float]) -> float:
    return sum(c.budget_lanes * lanes[c.name] for c in spec.classes)


def ports_needed(tier: SwitchTier, lanes: dict[str, float]) -> float:
    """Switch ports one unit of the tier needs."""
    return sum(coeff * lanes[c] for c, coeff in tier.terms)


def nominal_lanes(spec: NetworkSpec) -> dict[str, float]:
    return {c.name: c.nominal_lanes for c in spec.classes}


def kinds_present(graph: Any) -> set[str]:
    return {d["kind"] for _, _, d in graph.edges(data=True)}


def direct_routes(level: Level, *detours: tuple[str, tuple[tuple[str, float], ...]]) -> list[Route]:
    """Direct route on the level's own resource (named after the level) first, then detours."""
    out = []
    for pattern in PATTERNS:
        out.append(Route(level.name, pattern, "direct",
                         ((level.name, route_factor(level.shape, pattern, level.size)),)))
        out.extend(Route(level.name, pattern, name, uses) for name, uses in detours)
    return out


def catalog_switch(instance: Any, field: str, link_GBps: tuple[float, ...],
                   radix: int | None = None) -> SwitchType:
    """The catalog switch a tier is priced as: `radix` ports when the fabric names a radix, and a
    port speed that carries each link speed in `link_GBps` in whole ports. Fewest ports per link
    first (an exact speed match first), then low-radix before high-radix, then by name."""
    def ports_per_link(s: SwitchType) -> int:
        ratios = [v / s.port_GBps for v in link_GBps]
        whole = all(abs(q - round(q)) < 1e-9 and round(q) >= 1 for q in ratios)
        return max(round(q) for q in ratios) if whole else 0

    fits = sorted((ports_per_link(s), s.high_radix, s.name) for s in SWITCHES.values()
                  if (radix is None or s.radix == radix) and ports_per_link(s))
    if not fits:
        have = ", ".join(f"{s.name} {s.radix} x {s.port_GBps:g}" for s in SWITCHES.values())
        ports = f"{radix} ports" if radix else "ports"
        speeds = " and ".join(f"{v:g}" for v in sorted(set(link_GBps)))
        raise InstanceError(instance.source_file, field,
                            f"no catalog switch has {ports} whose speed divides {speeds} GB/s "
                            f"(catalog, ports x GB/s: {have}); provisioning prices switches from the catalog")
    return SWITCHES[fits[0][2]]


def port_class(name: str, instance: Any, sw: SwitchType, nominal_GBps: float,
                kinds: tuple[str, ...], on_chip_lanes: bool = True) -> LinkClass:
    """Switch ports per chip at `sw`'s port speed: at least one, at most the chip's whole
    interconnect (floor(interconnect / port)). Ports on the chip's lanes (a Clos plane of UB lanes,
    a dragonfly terminal) spend port / lane of them each; ports off them (a NIC on the host of a
    rail-optimized server) none."""
    chip = instance.chip
    return LinkClass(name, sw.port_GBps, nominal_GBps / sw.port_GBps, 1,
                     max(1, math.floor(chip.interconnect_GBps / sw.port_GBps + 1e-9)),
                     sw.port_GBps / chip.lane_GBps if on_chip_lanes else 0.0, kinds)


def tree_levels(instance: Any, ends: int, what: str, tiers: int) -> tuple[Level, ...]:
    """Nested switch levels over the `ends` leaf ports of one plane (chips of a fat-tree, servers
    of a rail): leaves of min(down, ends), then spines (two tiers) or pods of radix / 2 leaves and
    cores (three tiers). Levels are scoped 1, 2, ... (a server domain below them is 0)."""
    p = instance.fabric.params
    leaf = min(p.leaf_ports()[0], ends)
    if tiers == 2:
        raw = (("leaf", leaf), ("spine", ends // leaf))
    else:
        pod = min(p.radix // 2, math.ceil(ends / leaf))
        raw = (("leaf", leaf), ("pod", pod), ("core", ends // (leaf * pod)))
    if math.prod(s for _, s in raw) != ends:
        raise InstanceError(instance.source_file, "fabric.chips",
                            f"provisioning needs the {ends:,} {what} to fill whole leaves of {leaf} "
                            f"and whole pods; use a multiple of {math.prod(s for _, s in raw[:-1])}")
    return tuple(Level(n, s, "switch", i + 1, True) for i, (n, s) in enumerate(raw) if s > 1)


def dim_scope(lines: np.ndarray, node_cab: np.ndarray, group: np.ndarray) -> int:
    """Scope index of a dimension: cabinet when each line stays in one cabinet, group, else global."""
    cab = node_cab[lines]
    if np.all(cab == cab[:, :1]):
        return SCOPES.index("cabinet")
    grp = group[cab]
    return SCOPES.index("group") if np.all(grp == grp[:, :1]) else SCOPES.index("global")
