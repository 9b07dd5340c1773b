"""What a fabric family is: the `Family` record every family module exports, and the typed
description (`FabricDesc`) that travels beside a fabric's networkx graph (`Fabric`).

A family module defines, once: its frozen params dataclass, the parameter checks (errors name the
dotted path of the field), the chip count, the graph builder, the provisioning network spec, its
edge-kind names, the routing hints the scorer uses (the product dimensions of the fabric, named
chip groups, translation symmetry) and how its chips pack into cabinets. Nothing outside
`topo_opt/families/` branches on a family's name: stages ask the registry.
"""

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

SHAPE_KIND = {"ring": "ring", "full-mesh": "mesh", "switch": "switch"}


def zero_ok(**kw: Any) -> Any:
    """A params field that may be zero (sizes are positive unless marked so)."""
    return field(metadata={"min": 0}, **kw)


def suggest(key: str, allowed: list[str]) -> str:
    """' (did you mean 'x'?)', else the allowed names: the tail of every unknown-name error."""
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"


def choice(value: str, allowed: tuple[str, ...], ctx: Any, what: str) -> str:
    if value not in allowed:
        raise ctx.fail(f"unknown {what} {value!r}" + suggest(value, list(allowed)))
    return value


def dim_kind(shape: str, d: int) -> str:
    """Edge kind of dimension d of a product fabric: ring0, mesh1, switch2 (the one naming rule)."""
    return SHAPE_KIND[shape] + str(d)


@dataclass(frozen=True)
class DimRecord:
    """One product dimension of a fabric, as the scorer and the bisection closed form see it.

    `axes` are the chip-coordinate axes it spans (one, except a virtual switch over several);
    `kinds` the edge kinds of its sub-network; a `virtual` dimension (the UB-Mesh LRS) is routed
    only when a schedule names it.
    """

    name: str
    shape: str  # ring | full-mesh | switch
    size: int
    bandwidth_GBps: float
    latency_ns: float
    axes: tuple[int, ...]
    kinds: tuple[str, ...]
    virtual: bool = False


@dataclass(frozen=True)
class FabricDesc:
    """The typed description of a built fabric (what used to ride in `graph.graph`).

    dims: the product dimensions in routing order (empty when the fabric is not a product: a
    twisted torus, a dragonfly, an oversubscribed Clos); extras: virtual dimensions; groups: named
    chip groups as coordinate axes (`board`, `rack`, `pod`); translations: the fabric is a torus
    whose coordinate translations (twisted where `twisted`) map it onto itself; chip_symmetric:
    every chip sees the same neighbourhood (hop statistics from one source are exact);
    bisection_GBps: a closed-form bisection, when the family has one; stubs: see below.
    """

    family: str
    name: str
    chips: int
    params: Any
    dims: tuple[DimRecord, ...] = ()
    extras: tuple[DimRecord, ...] = ()
    groups: tuple[tuple[str, tuple[int, ...]], ...] = ()
    variant: str = ""
    oversubscription: float = 1.0
    twisted: bool = False
    translations: bool = False
    chip_symmetric: bool = False
    bisection_GBps: float | None = None
    # switch networks the chips link to that no schedule routes through (one UB-Mesh pod's HRS
    # uplinks): the bounds count their links, as they count every link of the per-chip graph
    stubs: tuple[DimRecord, ...] = ()

    def named_group(self, name: str) -> tuple[int, ...] | None:
        return dict(self.groups).get(name)


@dataclass(frozen=True, eq=False)
class SwitchLevel:
    """A fabric whose every chip has one link, to one switch (a Clos leaf, a dragonfly router), seen
    from its switches: what the per-chip graph is built from, and what the structured scorer routes
    on with the chips folded onto their switches (`collectives.switchlevel`).

    Switch i is node chips + i; `roles` name the switches in that order ((role, count), ...);
    `edges` are undirected switch-to-switch bundles (switch indices) with their total bandwidth,
    latency, lanes and kind; chip c links to switch `attach[c]` by one `terminal_kind` link.
    """

    chips: int
    roles: tuple[tuple[str, int], ...]
    attach: np.ndarray
    terminal_kind: str
    terminal_GBps: float
    terminal_latency_ns: float
    edges: np.ndarray  # (m, 2) switch indices
    bandwidth_GBps: np.ndarray
    latency_ns: np.ndarray
    lanes: np.ndarray
    kind: np.ndarray

    @property
    def switches(self) -> int:
        return sum(count for _, count in self.roles)


@dataclass(frozen=True, eq=False)
class Fabric:
    """A built fabric: its typed description and its per-chip graph (see `topo_opt.fabric`).

    A family whose fabrics outgrow one graph (`supercluster`) gives `make_graph` instead of the
    graph: the per-chip graph is then built on first use of `graph`, only where a stage needs it
    (export, small fabrics, tests against the structured scorer), and `graph_built` says whether
    it exists yet.
    """

    desc: FabricDesc
    _graph: nx.Graph | None = None
    make_graph: Callable[[], nx.Graph] | None = None

    @property
    def graph(self) -> nx.Graph:
        if self._graph is None:
            object.__setattr__(self, "_graph", self.make_graph())
        return self._graph

    @property
    def graph_built(self) -> bool:
        return self._graph is not None

    @property
    def chips(self) -> int:
        return self.desc.chips

    @property
    def name(self) -> str:
        return self.desc.name


_FALLBACK_GBPS = 400.0  # a chip's bandwidth when an optimize spec's chip is inline (no catalog figures): assumed


@dataclass(frozen=True)
class FamilySpace:
    """What `optimize` needs to search a family (`topo_opt.optimize`):

    - `default_space(chips, chip)`: parameter -> candidate values for that chip count, used when a
      spec gives no space (or names the family with no parameters);
    - `derived`: parameters the chip count fixes (a spec may not search them);
    - `fabric(params, chips)`: the instance's `fabric` section (without `family`), derived
      parameters filled in; raises ValueError when the parameters cannot make `chips` chips;
    - `compute_chips(fabric, template_chips)`: chips per compute cabinet.
    Default ranges spend the chip's whole interconnect bandwidth or fractions of it.
    """

    default_space: Callable[[int, Any], dict[str, tuple]]
    derived: tuple[str, ...]
    fabric: Callable[[dict, int], dict]
    compute_chips: Callable[[dict, int | None], int]


def chip_GBps(chip: Any) -> float:
    return chip.interconnect_GBps if chip else _FALLBACK_GBPS


def whole(chips: int, per: int, what: str) -> int:
    if per <= 0 or chips % per:
        raise ValueError(f"{chips} chips are not a whole number of {what} of {per}")
    return chips // per


def template_chips(_: dict, template: int | None) -> int:
    """Chips per compute cabinet from the spec's `cabinets.compute.chips` (families that do not fix it)."""
    if not template:
        raise ValueError("cabinets.compute.chips is required for this family (chips per compute cabinet)")
    return template


@dataclass(frozen=True)
class ClusterOf:
    """A fabric made of `copies` identical member fabrics (SuperPoDs) joined by a data-centre
    network: `member` is the member's fabric section (an instance `FabricSpec`), `member_chips`
    its chip count, `dcn` the network's parameters (`port_GBps`, `ports_per_chip`,
    `switch_radix`, `latency_ns`), `bisection_GBps(member_GBps)` the whole fabric's bisection from
    one member's. Stages that work per member (placement, provisioning) run on one member and
    reuse it as the template of every copy."""

    member: Any
    copies: int
    member_chips: int
    dcn: Any
    bisection_GBps: Callable[[float], float]


@dataclass(frozen=True)
class Family:
    """One fabric family. Every callable is pure.

    check(params, ctx): raise ctx.at(field).fail(message) on an invalid parameter set.
    chips(params): chip count without building anything.
    build(params, chip_lane_GBps, name): the Fabric (graph + description).
    network_spec(instance, graph, node_cab, cabinets): the provisioning model's view (`netspec`).
    edge_kinds(params): every edge kind the builder emits (their names are defined here only).
    cabinets_per_group(params, compute_cabinets): compute cabinets that should sit together.
    pod_chips(params): chips per pod whose switches stay with the pod's cabinets (0: none).
    chips_per_cabinet(params): chips a compute cabinet must hold when the family fixes it (0: free).
    offchip_kinds(params): chip links that do not draw on the chip's own lanes (a host NIC).
    tp_domain(params): the largest tensor-parallel group the fabric's fastest domain joins
        (consecutive chip numbers: a UB-Mesh rack, a rail-optimized server), for `train`.
    search: the family's design space for `optimize` (`FamilySpace`).
    links_per_chip(params): graph edges per chip, roughly (switch links included), for the
        up-front graph-size estimate that refuses fabrics too large to build.
    cluster(params): a `ClusterOf` when the fabric is copies of a member fabric (the instance's
        cabinets, floor and media then describe one member's hall), else None.
    switch_level(params): the `SwitchLevel` of a fabric that is not a product but whose chips each
        hang off one switch (the structured scorer's view of it), else None.
    """

    name: str
    params: type
    check: Callable[[Any, Any], None]
    chips: Callable[[Any], int]
    build: Callable[[Any, float | None, str], Fabric]
    network_spec: Callable[..., Any]
    edge_kinds: Callable[[Any], tuple[str, ...]]
    cabinets_per_group: Callable[[Any, int], int] = lambda params, compute: compute
    pod_chips: Callable[[Any], int] = lambda params: 0
    chips_per_cabinet: Callable[[Any], int] = lambda params: 0
    offchip_kinds: Callable[[Any], tuple[str, ...]] = lambda params: ()
    links_per_chip: Callable[[Any], float] = lambda params: 4.0
    tp_domain: Callable[[Any], int] = lambda params: 1
    search: FamilySpace | None = None  # None: `optimize` does not search the family
    # parse(raw, ctx, parse_fabric, parse_dataclass) -> params, for params that nest another
    # family's fabric section (None: the params dataclass is parsed field by field)
    parse: Callable[..., Any] | None = None
    # the per-chip graph is built only on request (`Fabric.make_graph`), so its size is checked then
    lazy_graph: bool = False
    cluster: Callable[[Any], ClusterOf | None] = lambda params: None
    switch_level: Callable[[Any], SwitchLevel | None] = lambda params: None
    packing: str = "fabric order: chips fill the compute cabinets in chip order"
