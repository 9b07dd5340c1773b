"""SuperCluster: `superpods` copies of one SuperPoD (any registered product family) joined by a
data-centre network (DCN), as Huawei joins 64 Atlas 950 SuperPoDs into the Atlas 950
SuperCluster over UB over Ethernet (UBoE) or RoCE.

Chips are numbered SuperPoD-major: chip c of SuperPoD s is `s * P + c` (P chips per SuperPoD),
with the SuperPoD's coordinates followed by s. The DCN is rail-aligned, as large Ethernet
back-ends are built: chip position c of every SuperPoD sits on DCN plane c, a non-blocking
network of `superpods` ports (`dcn.ports_per_chip` x `dcn.port_GBps` per chip, one direction);
a flow between different positions of different SuperPoDs first moves inside its SuperPoD (as
NCCL's PXN does). So the SuperCluster is the SuperPoD's product dimensions times one switch
dimension `dcn` of size `superpods`, and the structured scorer (`collectives.structured`)
scores it from that description, with no per-chip graph. DCN ports are NICs beside the chip's
UB lanes (`offchip_kinds`): they do not draw on the SuperPoD's lane budget.

The per-chip graph (`make_graph`) exists for small SuperClusters (tests against the structured
scorer, export): the SuperPoD graph copied `superpods` times, plus one DCN switch per plane,
whose links carry half the DCN path latency each.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from topo_opt.families.base import ClusterOf, DimRecord, Fabric, FabricDesc, Family

DCN_KIND = "dcn"


@dataclass(frozen=True)
class DcnParams:
    """The inter-SuperPoD network, per chip: `ports_per_chip` ports of `port_GBps` (may be
    fractional: 0.5 = one port per two chips, shared evenly); `latency_ns` chip to chip across it;
    `switch_radix` ports per DCN switch box (provisioning's tiers)."""

    port_GBps: float = 100.0
    ports_per_chip: float = 1.0
    latency_ns: float = field(default=2000.0, metadata={"min": 0})
    switch_radix: int = 64

    @property
    def chip_GBps(self) -> float:
        return self.port_GBps * self.ports_per_chip


@dataclass(frozen=True)
class SuperClusterParams:
    """`superpod`: the SuperPoD's fabric section (its own `family` and parameters)."""

    superpod: Any  # FabricSpec of the member family (parsed by `parse`)
    superpods: int
    dcn: DcnParams = DcnParams()

    @property
    def member(self) -> Family:
        from topo_opt.families import FAMILIES  # the registry imports this module
        return FAMILIES[self.superpod.family]

    @property
    def superpod_chips(self) -> int:
        return self.member.chips(self.superpod.params)


def parse(raw: dict, ctx: Any, parse_fabric: Callable, parse_dataclass: Callable) -> SuperClusterParams:
    """The nested `superpod` section goes through the fabric parser of its own family."""
    if "superpod" not in raw:
        raise ctx.at("superpod").fail("is required: the SuperPoD's fabric section, with its `family`")
    if isinstance(raw["superpod"], dict) and raw["superpod"].get("family") == "supercluster":
        raise ctx.at("superpod").at("family").fail("a SuperCluster cannot nest another SuperCluster")
    member = parse_fabric(raw["superpod"], ctx.at("superpod"))
    rest = parse_dataclass({k: v for k, v in raw.items() if k != "superpod"}, _Rest, ctx)
    return SuperClusterParams(member, rest.superpods, rest.dcn)


@dataclass(frozen=True)
class _Rest:
    superpods: int
    dcn: DcnParams = DcnParams()


def check(p: SuperClusterParams, ctx: Any) -> None:
    if p.superpods < 2:
        raise ctx.at("superpods").fail(f"must be at least 2 (one SuperPoD is its own instance), got {p.superpods}")
    if p.dcn.switch_radix < 2:
        raise ctx.at("dcn").at("switch_radix").fail(f"must be at least 2, got {p.dcn.switch_radix}")
    # the description is what matters here (a UB-Mesh SuperPoD builds no graph for it)
    if not member_fabric(p, None, "").desc.dims:
        raise ctx.at("superpod").at("family").fail(
            f"this {p.superpod.family} SuperPoD is not a product of dimensions (a twisted torus, a dragonfly or "
            "an oversubscribed Clos): a SuperCluster is scored from its SuperPoD's dimensions")


def chips(p: SuperClusterParams) -> int:
    return p.superpod_chips * p.superpods


def member_fabric(p: SuperClusterParams, chip_lane_GBps: float | None, name: str) -> Fabric:
    """One SuperPoD (its description is cheap; its graph is built only if asked for)."""
    return p.member.build(p.superpod.params, chip_lane_GBps, f"{name}-superpod" if name else "")


def describe(member: FabricDesc, p: SuperClusterParams, name: str) -> FabricDesc:
    """The SuperPoD's product dimensions, then `dcn` on a new last axis."""
    if not member.dims:
        raise ValueError(f"the SuperPoD ({member.family}) is not a product of dimensions (a twisted torus, "
                         "a dragonfly or an oversubscribed Clos): a SuperCluster needs one")
    axis = member_axes(member)
    dcn = DimRecord(DCN_KIND, "switch", p.superpods, p.dcn.chip_GBps, p.dcn.latency_ns, (axis,), (DCN_KIND,))
    groups = member.groups + (("superpod", tuple(range(axis))),)
    bisection = None if member.bisection_GBps is None else bisection_GBps(p, member.bisection_GBps)
    return FabricDesc("supercluster", name, member.chips * p.superpods, p, dims=member.dims + (dcn,),
                      extras=member.extras, stubs=member.stubs, groups=groups, chip_symmetric=member.chip_symmetric,
                      bisection_GBps=bisection)


def bisection_GBps(p: SuperClusterParams, member_GBps: float) -> float:
    """Cut every SuperPoD in half (G x the SuperPoD's bisection), or, G even, split the SuperPoDs
    into two halves (G P / 2 chips' DCN ports): the smaller (an odd G has no split of whole SuperPoDs)."""
    split = p.superpods // 2 * p.superpod_chips * p.dcn.chip_GBps if p.superpods % 2 == 0 else float("inf")
    return min(p.superpods * member_GBps, split)


def member_axes(member: FabricDesc) -> int:
    """Chip coordinate axes the SuperPoD's dimensions span (trailing size-1 axes dropped)."""
    return 1 + max(a for d in member.dims + member.extras for a in d.axes)


def build(p: SuperClusterParams, chip_lane_GBps: float | None, name: str) -> Fabric:
    member = member_fabric(p, chip_lane_GBps, name)
    desc = describe(member.desc, p, name)
    return Fabric(desc, make_graph=lambda: _checked_graph(member, p, name))


def _checked_graph(member: Fabric, p: SuperClusterParams, name: str) -> nx.Graph:
    from topo_opt.instance import FabricSpec, check_graph_size  # instance imports the registry
    check_graph_size(FabricSpec("supercluster", p), name or "fabric")
    return supercluster_graph(member, p)


def supercluster_graph(member: Fabric, p: SuperClusterParams) -> nx.Graph:
    """The per-chip graph: SuperPoD copies (chips first, then every copy's switches), then the DCN
    plane switches. Cabinet and board indices are offset per SuperPoD."""
    pod = member.graph
    chips_per, g = member.chips, p.superpods
    total = chips_per * g
    n_pod = pod.number_of_nodes()
    switches_per = n_pod - chips_per
    axes = member_axes(member.desc)
    cabinets = 1 + max((c for _, c in pod.nodes(data="cabinet") if c is not None and c >= 0), default=-1)
    boards = 1 + max((b for _, b in pod.nodes(data="board") if b is not None and b >= 0), default=-1)
    graph = nx.Graph()

    def node_id(s: int, v: int) -> int:
        return s * chips_per + v if v < chips_per else total + s * switches_per + (v - chips_per)

    for s in range(g):
        for v, data in pod.nodes(data=True):
            attrs = dict(data)
            if "coords" in attrs:
                attrs["coords"] = tuple(attrs["coords"][:axes]) + (s,)
            for key, count in (("cabinet", cabinets), ("board", boards)):
                if attrs.get(key, -1) is not None and attrs.get(key, -1) >= 0:
                    attrs[key] = attrs[key] + s * count
            graph.add_node(node_id(s, v), **attrs)
    for s in range(g):
        graph.add_edges_from((node_id(s, u), node_id(s, v), dict(d)) for u, v, d in pod.edges(data=True))
    first = total + g * switches_per
    graph.add_nodes_from(range(first, first + chips_per), kind="switch", role="dcn", cabinet=-1, board=-1)
    half = p.dcn.latency_ns / 2
    graph.add_edges_from(((s * chips_per + c, first + c) for c in range(chips_per) for s in range(g)),
                         bandwidth_GBps=p.dcn.chip_GBps, latency_ns=half, lanes=p.dcn.ports_per_chip,
                         kind=DCN_KIND)
    return graph


def _links_per_chip(p: SuperClusterParams) -> float:
    return p.member.links_per_chip(p.superpod.params) + 1


FAMILY = Family(
    name="supercluster", params=SuperClusterParams, check=check, chips=chips, build=build,
    network_spec=lambda *a, **k: _not_yet("provisioning"),
    edge_kinds=lambda p: p.member.edge_kinds(p.superpod.params) + (DCN_KIND,),
    offchip_kinds=lambda p: (DCN_KIND,),
    links_per_chip=_links_per_chip,
    tp_domain=lambda p: p.member.tp_domain(p.superpod.params),
    parse=parse,
    lazy_graph=True,
    cluster=lambda p: ClusterOf(p.superpod, p.superpods, p.superpod_chips, p.dcn,
                                lambda member_GBps: bisection_GBps(p, member_GBps)),
    # the instance's cabinets hold one SuperPoD, packed as the member family packs
    chips_per_cabinet=lambda p: p.member.chips_per_cabinet(p.superpod.params),
    cabinets_per_group=lambda p, compute: p.member.cabinets_per_group(p.superpod.params, compute),
)


def _not_yet(stage: str):
    raise ValueError(f"{stage} of a whole SuperCluster runs per SuperPoD (see `solve`)")

