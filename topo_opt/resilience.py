"""Failures, spares and availability: what a fabric keeps when parts break, and how often it is whole.

**What fails.** A graph edge bundles `units` physical links: round(bandwidth / the widest medium's
cable bandwidth), at least 1 (a Clos plane bundle of 20 x 800G is 20 links; a UB-Mesh NPU-to-NPU
lane bundle is one). A failed link removes one unit. A switch node stands for `units` physical
switches (the most units of its edges); a failed switch removes one unit of each of its edges.
Failed chips are replaced by a spare of their cabinet (UB-Mesh's 64 + 1 behind the LRS) while one
is free; otherwise, or when a chip loses every link, the job stops (no shrinking of the group).

**Degraded time, fast path (a perturbation of the symmetric solution).** Every edge belongs to a
class: a product dimension of the scorer's view (the UB-Mesh LRS included) or, on fabrics without
one, its edge kind. A synchronous collective is governed by its most-loaded link, so each class's
capacity is divided by the worst load factor r among its edges after rerouting:

- a bundle keeps n - k of its n units: r = n / (n - k);
- a full-mesh dimension of k chips loses a whole edge: its traffic takes the 2-hop detours through
  the other k - 2 peers, r = 1 + f / (k - 2) with f lost edges at the worse end, one hop more;
- a ring loses an edge: each direction's traffic goes the other way round, r = 1 + min/max of the
  two directions' loads (1 for a one-way ring schedule, 2 for a two-way one), k - 2 hops more;
- a chip loses its only link into a switch dimension (or the LRS): its peers in the largest
  mesh or ring dimension (m of them) relay its share, r = 1 + 1/m (r = 2 with none);
- an edge between switches: ECMP spreads its lost units over the same-kind edges of the switch,
  r = U / (U - k) with U units there and k lost (a switch cut off from the tier: as a lost chip link);
- a spare chip sends everything through its one LRS link of B_lrs: the collective takes at least
  bytes sent per chip / B_lrs plus two LRS hops per step.

The intact schedule (the algorithm `score_fabric` chose) is re-timed by the scorer's own engine on
the same network with the scaled class capacities; extra hops add `steps x hop latency`. On small
fabrics `exact_trial` removes the parts from a copy of the graph and rescores it chip by chip with
shortest-path routing (the tests hold the fast path to it and to closed forms).

**Availability.** From component counts (the result file's bill of materials, or the fabric graph:
links between different or unknown cabinets counted as optical, an upper bound) and the catalog's
rates: the fabric's failure rate (network components), MTBF of job-stopping events (failures the
design cannot absorb: a chip with no free spare, a board, and links and switches when
`links_stop_job`; a second chip failure in a spared cabinet within the repair time,
rate ~ cabinets x (g lambda) x ((g - 1) lambda MTTR)^s / s! for g chips and s spares), and
availability A = 1 / (1 + sum_i lambda_i d_i), d_i the downtime of event class i (detection,
detection + migration to a spare, detection + MTTR).
"""

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from topo_opt.catalog import FAILURE_RATES, SWITCHES
from topo_opt.collectives import score_fabric
from topo_opt.collectives.algorithms import build_schedule
from topo_opt.collectives.engine import Evaluator
from topo_opt.collectives.groups import make_groups
from topo_opt.collectives.routing import Network, network
from topo_opt.collectives.schedule import STAR, Shift
from topo_opt.collectives.topology import ProductView
from topo_opt.errors import InstanceError
from topo_opt.families.base import Fabric
from topo_opt.instance import Instance, Reliability

FAIL_KINDS = ("links", "chips", "switches")
_DEFAULT_CABLE_GBPS = 100.0  # one 800G cable, when the instance names no media
_HIGH_RADIX_ROLES = ("hrs-leaf", "hrs-spine", "leaf", "spine", "agg", "core", "router", "switch")


# --- what can fail ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class FailureSpace:
    """The fabric's failable parts as arrays (edges in `graph.edges` order, as the link table)."""

    net: Network
    u: np.ndarray
    v: np.ndarray
    units: np.ndarray  # physical links per edge
    cls: np.ndarray  # class index per edge
    class_names: tuple[str, ...]
    class_shape: tuple[str, ...]  # full-mesh | ring | switch
    class_size: tuple[int, ...]
    class_hop_ns: tuple[float, ...]
    switches: np.ndarray  # switch node ids
    switch_units: np.ndarray
    cabinet: np.ndarray  # per chip, -1 unknown
    spares: dict  # cabinet -> [spare node ids]
    end_keys: np.ndarray  # (2, edges): node x kinds + kind of each end, for ECMP sums
    between_switches: np.ndarray  # edges with a switch at both ends
    units_at: np.ndarray  # per end key: units of the switch's edges of that kind

    @property
    def chips(self) -> int:
        return self.net.chips

    def population(self, kind: str) -> int:
        return {"links": int(self.units.sum()), "chips": self.chips,
                "switches": int(self.switch_units.sum())}[kind]


def failure_space(fabric: Fabric, cable_GBps: float = _DEFAULT_CABLE_GBPS) -> FailureSpace:
    graph, net = fabric.graph, network(fabric)
    links = net.links
    u, v = links.tail[0::2], links.head[0::2]
    units = np.maximum(1, np.rint(links.capacity_GBps[0::2] / cable_GBps)).astype(np.int64)
    kinds = links.kind[0::2]
    names, shapes, sizes, hops, of_kind = [], [], [], [], {}
    dims = (net.view.dims + net.view.extras) if net.view is not None else ()
    for d in dims:
        for k in d.kinds:
            of_kind.setdefault(k, len(names))
        names.append(d.name)
        shapes.append(d.shape)
        sizes.append(d.size)
        hops.append(d.hop_latency_ns)
    for k in sorted(set(kinds.tolist())):
        if k not in of_kind:
            of_kind[k] = len(names)
            lat = links.latency_ns[0::2][kinds == k]
            names.append(k)
            shapes.append("switch")
            sizes.append(0)
            hops.append(float(lat.max()))
    cls = np.array([of_kind[k] for k in kinds.tolist()], dtype=np.int64)
    nodes = graph.number_of_nodes()
    kind_of = np.array([graph.nodes[n].get("kind", "") for n in range(nodes)], dtype=object)
    switches = np.flatnonzero(kind_of == "switch")
    per_node = np.zeros(nodes, dtype=np.int64)
    np.maximum.at(per_node, u, units)
    np.maximum.at(per_node, v, units)
    cabinet = np.array([graph.nodes[c].get("cabinet", -1) for c in range(net.chips)], dtype=np.int64)
    spares: dict = {}
    for n in np.flatnonzero(kind_of == "spare").tolist():
        spares.setdefault(int(graph.nodes[n].get("cabinet", -1)), []).append(n)
    kind_codes, kind_id = np.unique(kinds.astype(str), return_inverse=True)
    end_keys = np.stack([u, v]) * len(kind_codes) + kind_id
    between = (u >= net.chips) & (v >= net.chips)
    units_at = _end_sums(end_keys, between, units, nodes * len(kind_codes))
    return FailureSpace(net, u, v, units, cls, tuple(names), tuple(shapes), tuple(sizes), tuple(hops),
                        switches, np.maximum(per_node[switches], 1), cabinet, spares, end_keys, between, units_at)


def _end_sums(end_keys: np.ndarray, mask: np.ndarray, values: np.ndarray, length: int) -> np.ndarray:
    """Sum of `values` of the masked edges at each (node, kind) end key."""
    return (np.bincount(end_keys[0][mask], weights=values[mask], minlength=length)
            + np.bincount(end_keys[1][mask], weights=values[mask], minlength=length))


@dataclass(frozen=True, eq=False)
class Failures:
    """Failed units per edge, failed chips and failed switch units (one trial)."""

    edge_units: np.ndarray
    chips: np.ndarray
    switch_units: np.ndarray  # per entry of FailureSpace.switches


def parse_fail_spec(text: str, space: FailureSpace, where: str = "--fail") -> dict[str, int]:
    """`links=K,chips=K,switches=K`, each K a count or a percentage of that population (`1%`)."""
    counts = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name not in FAIL_KINDS:
            raise InstanceError(where, name or part, f"unknown component (one of {', '.join(FAIL_KINDS)})")
        total = space.population(name)
        try:
            k = float(value[:-1]) / 100 * total if value.endswith("%") else float(value)
        except ValueError:
            raise InstanceError(where, name, f"must be a count or a percentage such as 1%, got {value!r}") from None
        if not math.isfinite(k) or k < 0 or (not value.endswith("%") and k != int(k)):
            raise InstanceError(where, name, f"must be a whole count or a percentage >= 0, got {value!r}")
        k = int(round(k))
        if k > total:
            raise InstanceError(where, name, f"{k} exceeds the fabric's {total:,} {name}")
        counts[name] = k
    return counts


def sample_failures(space: FailureSpace, counts: dict[str, int], rng: np.random.Generator) -> Failures:
    """K distinct units of each kind, uniformly at random (links and switches by physical unit)."""
    edge_units = np.zeros(len(space.units), dtype=np.int64)
    picked = rng.choice(space.population("links"), size=counts.get("links", 0), replace=False)
    np.add.at(edge_units, np.searchsorted(np.cumsum(space.units), picked, side="right"), 1)
    chips = np.sort(rng.choice(space.chips, size=counts.get("chips", 0), replace=False))
    sw = np.zeros(len(space.switches), dtype=np.int64)
    picked = rng.choice(space.population("switches"), size=counts.get("switches", 0), replace=False)
    np.add.at(sw, np.searchsorted(np.cumsum(space.switch_units), picked, side="right"), 1)
    return Failures(edge_units, chips, sw)


def named_failures(space: FailureSpace, scenario: dict, file: str) -> Failures:
    """A scenario mapping {links: [[u, v], ...], chips: [c, ...], switches: [s, ...]} (graph node ids)."""
    if not isinstance(scenario, dict):
        raise InstanceError(file, "", "a scenario is a mapping with links, chips and/or switches")
    for key in scenario:
        if key not in FAIL_KINDS:
            raise InstanceError(file, str(key), f"unknown component (one of {', '.join(FAIL_KINDS)})")
    edge_of = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(space.u.tolist(), space.v.tolist(), strict=True))}
    edge_units = np.zeros(len(space.units), dtype=np.int64)
    for i, pair in enumerate(_items(scenario, "links", file)):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(x) for x in pair)):
            raise InstanceError(file, f"links[{i}]", f"must be a pair of node ids [u, v], got {pair!r}")
        e = edge_of.get((pair[0], pair[1]), edge_of.get((pair[1], pair[0])))
        if e is None:
            raise InstanceError(file, f"links[{i}]", f"no link between nodes {pair[0]} and {pair[1]}")
        edge_units[e] = min(edge_units[e] + 1, space.units[e])
    chips = []
    for i, c in enumerate(_items(scenario, "chips", file)):
        if not _is_int(c) or not 0 <= c < space.chips:
            raise InstanceError(file, f"chips[{i}]", f"must be a chip id 0..{space.chips - 1}, got {c!r}")
        chips.append(c)
    sw = np.zeros(len(space.switches), dtype=np.int64)
    for i, s in enumerate(_items(scenario, "switches", file)):
        pos = int(np.searchsorted(space.switches, s)) if _is_int(s) else -1
        if pos < 0 or pos >= len(space.switches) or space.switches[pos] != s:
            raise InstanceError(file, f"switches[{i}]", f"must be a switch node id, got {s!r}")
        sw[pos] = min(sw[pos] + 1, space.switch_units[pos])
    return Failures(edge_units, np.unique(np.array(chips, dtype=np.int64)), sw)


def _items(scenario: dict, key: str, file: str) -> list:
    items = scenario.get(key, [])
    if not isinstance(items, list):
        raise InstanceError(file, key, f"must be a list, got {items!r}")
    return items


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def lost_units(space: FailureSpace, f: Failures) -> np.ndarray:
    """Units lost per edge: failed links, plus one per failed switch unit on each of its edges."""
    lost = f.edge_units.copy()
    if f.switch_units.any():
        per_node = np.zeros(space.net.links.nodes, dtype=np.int64)
        per_node[space.switches] = f.switch_units
        lost += per_node[space.u] + per_node[space.v]
    return np.minimum(lost, space.units)


# --- the perturbation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Perturbation:
    """Per class: load factor r, extra hop latency (ns), and the component that set r."""

    factor: np.ndarray
    extra_ns: np.ndarray
    culprit: tuple[str, ...]
    ring_full: np.ndarray  # per class: edges fully lost on a ring (their factor depends on the schedule)
    spares_used: tuple[int, ...]  # chips running on a spare
    spare_GBps: float
    spare_hop_ns: float
    stopped: str  # why the job stops, "" when it runs


def perturb(space: FailureSpace, f: Failures) -> Perturbation:
    """The load factors of one trial's failures (the rules of the module docstring), the spares
    taken, and whether the job stops."""
    nclass = len(space.class_names)
    factor, extra = np.ones(nclass), np.zeros(nclass)
    culprit = [""] * nclass
    ring_full = np.zeros(nclass, dtype=np.int64)
    lost = lost_units(space, f)
    hit = np.flatnonzero(lost)
    links = space.net.links
    chips = space.chips
    full = lost == space.units
    stopped = _disconnected(space, full)
    # lost whole edges per (node, class): the 'f' of the full-mesh detour
    key = lambda n, c: n * nclass + c  # noqa: E731
    full_at = {}
    for e in np.flatnonzero(full).tolist():
        for n in (int(space.u[e]), int(space.v[e])):
            full_at[key(n, int(space.cls[e]))] = full_at.get(key(n, int(space.cls[e])), 0) + 1
    lost_at = _end_sums(space.end_keys, space.between_switches, lost, len(space.units_at))
    relay = max([k - 1 for k, sh in zip(space.class_size, space.class_shape, strict=True)
                 if sh in ("full-mesh", "ring") and k > 1], default=1)
    for e in hit.tolist():
        c, n, k = int(space.cls[e]), int(space.units[e]), int(lost[e])
        a, b = int(space.u[e]), int(space.v[e])
        shape, size = space.class_shape[c], space.class_size[c]
        add = 0.0
        if a >= chips and b >= chips:
            r = max(_ecmp(space.units_at[x], lost_at[x], relay) for x in space.end_keys[:, e])
        elif k < n:
            r = n / (n - k)
        elif shape == "full-mesh" and size >= 3:
            r = 1 + max(full_at[key(a, c)], full_at[key(b, c)]) / (size - 2)
            add = space.class_hop_ns[c]
        elif shape == "ring" and size >= 3:
            ring_full[c] += 1
            r = 1.0  # set per record from the schedule's two directions (`degraded_times`)
            add = (size - 2) * space.class_hop_ns[c]
        else:
            r, add = 1 + 1 / relay, space.class_hop_ns[c]
        if r > factor[c] or (not culprit[c] and (r > 1 or add > 0)):
            factor[c] = max(factor[c], r)
            culprit[c] = f"{links.kind[2 * e]} link {a}-{b} ({k} of {n} units)"
        extra[c] = max(extra[c], add)
    used, spare_GBps, spare_hop_ns = [], 0.0, 0.0
    for cab in sorted(set(space.cabinet[f.chips].tolist())) if len(f.chips) else []:
        failed = [int(c) for c in f.chips if space.cabinet[c] == cab]
        free = _working_spares(space, cab, full)
        if len(failed) > len(free):
            where = f"in its cabinet ({cab})" if cab >= 0 and cab in space.spares else "(the fabric has no spares)"
            stopped = stopped or f"chip {failed[len(free)]} failed with no free spare {where}"
            continue
        used += failed
        e = [int(x) for x in _edges_of(space, free[0])]
        spare_GBps = float(links.capacity_GBps[2 * e[0]]) if e else 0.0
        spare_hop_ns = float(links.latency_ns[2 * e[0]]) if e else 0.0
    return Perturbation(factor, extra, tuple(culprit), ring_full, tuple(used), spare_GBps, spare_hop_ns, stopped)


def _disconnected(space: FailureSpace, full: np.ndarray) -> str:
    """Why the job stops when the surviving links no longer join every chip, else ""."""
    chips, nodes = space.chips, space.net.links.nodes
    degree = np.bincount(np.concatenate([space.u, space.v]), minlength=nodes)[:chips]
    gone = np.bincount(np.concatenate([space.u[full], space.v[full]]), minlength=nodes)[:chips]
    cut = np.flatnonzero((degree > 0) & (gone == degree))
    if cut.size:
        return f"chip {int(cut[0])} lost every link"
    if not full.any():
        return ""
    keep = ~full
    adj = csr_matrix((np.ones(int(keep.sum())), (space.u[keep], space.v[keep])), shape=(nodes, nodes))
    _, label = connected_components(adj, directed=False)
    apart = np.flatnonzero(label[:chips] != label[0])
    return f"the fabric splits: chip {int(apart[0])} cannot reach chip 0" if apart.size else ""


def _ecmp(total: float, lost: float, relay: int) -> float:
    """Load factor on a switch's surviving same-kind links when ECMP spreads the lost units' share;
    a switch cut off from that tier leaves its chips to be relayed by their peers."""
    return total / (total - lost) if lost < total else 1 + 1 / relay


def _edges_of(space: FailureSpace, node: int) -> np.ndarray:
    return np.flatnonzero((space.u == node) | (space.v == node))


def _working_spares(space: FailureSpace, cabinet: int, full: np.ndarray) -> list[int]:
    return [s for s in space.spares.get(cabinet, []) if not full[_edges_of(space, s)].all()]


# --- timing -------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Plan:
    """The intact scores and, per record, its schedule and intact timing, ready to be re-timed."""

    space: FailureSpace
    records: tuple[dict, ...]
    schedules: tuple
    groups: object
    model: str
    routing: str
    injected_bytes: np.ndarray  # bytes the busiest chip originates over the collective, per record
    ring_ratio: np.ndarray  # (records, classes): min/max of a ring's two directions' loads
    uses: np.ndarray  # (records, classes): the record loads the class


def plan(fabric: Fabric, collectives: Sequence[str], sizes: Sequence[int], algorithms: Sequence[str] = ("auto",),
         model: str = "flow", groups: str | None = None, routing: str = "structured",
         cable_GBps: float = _DEFAULT_CABLE_GBPS) -> Plan:
    """Score the intact fabric (`score_fabric`) and keep each record's schedule and link loads."""
    space = failure_space(fabric, cable_GBps)
    records = _score(fabric, collectives, sizes, algorithms, model, groups, routing)
    net = space.net
    grp = make_groups(net, groups)
    ev = _evaluator(net, grp, model, routing)
    schedules, injected, ratio, uses = [], [], [], []
    links = net.links
    edge_cls = np.repeat(space.cls, 2)
    for r in records:
        schedule = build_schedule(r["collective"], r["algorithm"], grp.shape, r["size_bytes"])
        timing = ev.run(schedule)
        schedules.append(schedule)
        load = timing.busy_s * links.capacity_GBps * 1e9
        injected.append(_sent_bytes(schedule, grp.shape.shape))
        per_class = np.zeros(len(space.class_names))
        np.add.at(per_class, edge_cls, load)
        uses.append(per_class > 0)
        ratio.append(_ring_ratios(space, load))
    return Plan(space, tuple(records), tuple(schedules), grp, model, routing, np.array(injected),
                np.array(ratio), np.array(uses))


def _sent_bytes(schedule, shape: tuple[int, ...]) -> float:
    """Bytes the busiest rank originates over the schedule (every rank alike for Shifts)."""
    total = 0.0
    for step in schedule.steps:
        per_rank = np.zeros(math.prod(shape))
        for part in step.parts:
            if isinstance(part, Shift):
                per_rank += part.size_bytes * math.prod(k - 1 for k, o in zip(shape, part.offset, strict=True)
                                                        if o == STAR)
            else:
                per_rank += np.bincount(part.src, weights=np.broadcast_to(part.size_bytes, part.src.shape),
                                        minlength=len(per_rank))
        total += step.repeat * float(per_rank.max())
    return total


def _ring_ratios(space: FailureSpace, load: np.ndarray) -> np.ndarray:
    """Per ring class: the lighter direction's busiest link over the heavier one's (0 for one-way)."""
    out = np.zeros(len(space.class_names))
    view = space.net.view
    links = space.net.links
    for c, shape in enumerate(space.class_shape):
        if shape != "ring" or view is None:
            continue
        dim = view.dim(space.class_names[c])
        axis, k = dim.axes[0], dim.size
        stride = int(view.strides[axis])
        mask = np.isin(links.kind, dim.kinds)
        forward = ((links.head // stride) % k) == (((links.tail // stride) % k + 1) % k)
        a, b = float(load[mask & forward].max(initial=0)), float(load[mask & ~forward].max(initial=0))
        out[c] = min(a, b) / max(a, b) if max(a, b) > 0 else 0.0
    return out


def degraded_times(p: Plan, pert: Perturbation) -> tuple[np.ndarray, list[str]]:
    """Time (s) of every record on the degraded fabric (inf when the job stops), and its cause:
    the component behind the worst factor among the classes the record loads."""
    if pert.stopped:
        return np.full(len(p.records), np.inf), [pert.stopped] * len(p.records)
    times, causes = np.empty(len(p.records)), []
    cache: dict = {}
    for i, schedule in enumerate(p.schedules):
        ring = np.where(pert.ring_full > 0, 1 + p.ring_ratio[i], 1.0)
        factor = np.where(p.uses[i], np.maximum(pert.factor, ring), 1.0)
        key = factor.tobytes()
        if key not in cache:
            cache[key] = _evaluator(_scaled(p.space, factor), p.groups, p.model, p.routing)
        timing = cache[key].run(schedule)
        extra_ns = np.where(p.uses[i], pert.extra_ns, 0.0)
        t = timing.time_s + float(extra_ns.max(initial=0.0)) * 1e-9 * timing.steps
        worst = int(np.argmax(factor + extra_ns * 1e-9))
        cause = pert.culprit[worst] if factor[worst] > 1 or extra_ns[worst] > 0 else ""
        if pert.spares_used and pert.spare_GBps > 0:
            spare = p.injected_bytes[i] / (pert.spare_GBps * 1e9) + timing.steps * 2 * pert.spare_hop_ns * 1e-9
            if spare > t:
                t, cause = spare, f"chip {pert.spares_used[0]} replaced by its cabinet's spare behind the LRS"
        times[i] = t
        causes.append(cause or "none (no failure on the links this collective uses)")
    return times, causes


def _scaled(space: FailureSpace, factor: np.ndarray) -> Network:
    """The scorer's network with each class's capacity divided by its factor (one helper, so an
    API change of the scorer's network is one place to adapt)."""
    net = space.net
    links = dataclasses.replace(net.links, capacity_GBps=net.links.capacity_GBps / np.repeat(factor[space.cls], 2))
    view = net.view
    if view is not None:
        index = {n: i for i, n in enumerate(space.class_names)}
        dims = tuple(dataclasses.replace(d, link_GBps=d.link_GBps / factor[index[d.name]]) for d in view.dims)
        extras = tuple(dataclasses.replace(d, link_GBps=d.link_GBps / factor[index[d.name]]) for d in view.extras)
        view = ProductView(view.sizes, dims, extras)
    return Network(net.graph, net.desc, links, view, net.translations)


# --- exact rescoring (small fabrics) ------------------------------------------------------------

def degraded_graph(space: FailureSpace, f: Failures, fabric: Fabric) -> Fabric:
    """A copy of the fabric without the failed parts: bundles thinned, lost edges removed, a failed
    chip's links replaced by its cabinet's spare's LRS link (the spare left isolated)."""
    g = fabric.graph.copy()
    lost = lost_units(space, f)
    for e in np.flatnonzero(lost).tolist():
        a, b = int(space.u[e]), int(space.v[e])
        n, k = int(space.units[e]), int(lost[e])
        if k >= n:
            g.remove_edge(a, b)
        else:
            data = g.edges[a, b]
            data["bandwidth_GBps"] *= (n - k) / n
            data["lanes"] = data.get("lanes", 1) * (n - k) / n
    free = {cab: list(s) for cab, s in space.spares.items()}
    for c in f.chips.tolist():
        spare = free.get(int(space.cabinet[c]), [])
        if not spare:
            raise ValueError(f"chip {c} has no free spare: the job stops")
        s = spare.pop(0)
        (sw, data), = ((w, dict(d)) for _, w, d in g.edges(s, data=True))
        g.remove_edges_from(list(g.edges(c)))
        g.remove_edges_from(list(g.edges(s)))
        g.add_edge(c, sw, **data)
    return Fabric(fabric.desc, g)


def exact_times(space: FailureSpace, f: Failures, graph: Fabric, records: Sequence[dict],
                model: str = "flow", brute_force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(intact, degraded) times of each record's algorithm, every flow routed over shortest paths
    of the intact and of the degraded graph: full per-chip rescoring, for small fabrics. With
    `brute_force`, every flow is routed on its own with networkx and timed by progressive filling."""
    g = degraded_graph(space, f, graph)
    intact, degraded = [], []
    for r in records:
        if brute_force:
            intact.append(_brute_time(graph, r, model))
            degraded.append(_brute_time(g, r, model))
            continue
        args = ([r["collective"]], [r["size_bytes"]], [r["algorithm"]], model, None, "shortest")
        intact.append(_score(graph, *args)[0]["time_s"])
        degraded.append(_score(g, *args)[0]["time_s"])
    return np.array(intact), np.array(degraded)


def _brute_time(graph: Fabric, record: dict, model: str) -> float:
    net = network(graph)
    grp = make_groups(net, None)
    schedule = build_schedule(record["collective"], record["algorithm"], grp.shape, record["size_bytes"])
    return _evaluator(net, grp, model, "shortest", brute_force=True).run(schedule).time_s


def _score(graph: Fabric, collectives, sizes, algorithms, model: str, groups: str | None, routing: str) -> list:
    """The public scorer; the one place resilience calls it."""
    return score_fabric(graph, collectives, sizes, algorithms, model, groups, routing)


def _evaluator(net: Network, groups, model: str, routing: str, brute_force: bool = False) -> Evaluator:
    """The scorer's engine on a (possibly capacity-scaled) network; the one place it is built."""
    return Evaluator(net, groups, model, routing, brute_force)


# --- trials -------------------------------------------------------------------------------------

def run_trials(p: Plan, counts: dict[str, int] | None, trials: int, seed: int,
               scenario: Failures | None = None) -> dict:
    """Distribution over trials of every record's degraded time and efficiency (intact / degraded)."""
    rng = np.random.default_rng(seed)
    runs = [scenario] if scenario is not None else [sample_failures(p.space, counts or {}, rng)
                                                   for _ in range(trials)]
    intact = np.array([r["time_s"] for r in p.records])
    times, causes = [], []
    for f in runs:
        t, c = degraded_times(p, perturb(p.space, f))
        times.append(t)
        causes.append(c)
    times = np.array(times)
    out = []
    for i, r in enumerate(p.records):
        col = times[:, i]
        ok = np.isfinite(col)
        eff = intact[i] / col
        worst = int(np.argmax(np.where(ok, col, np.inf))) if ok.any() else 0
        if not ok.all():
            worst = int(np.flatnonzero(~ok)[0])
        out.append({
            "collective": r["collective"], "algorithm": r["algorithm"], "size_bytes": r["size_bytes"],
            "intact_time_s": float(intact[i]),
            "time_s": _stats(col[ok]), "efficiency": _stats(eff[ok]),
            "stopped_trials": int((~ok).sum()),
            "worst": {"trial": worst, "time_s": float(col[worst]) if ok[worst] else None,
                      "efficiency": float(eff[worst]) if ok[worst] else 0.0,
                      "cause": causes[worst][i]},
        })
    return {"trials": len(runs), "records": out}


def _stats(x: np.ndarray) -> dict:
    if not x.size:
        return {"min": None, "median": None, "max": None}
    return {"min": float(x.min()), "median": float(np.median(x)), "max": float(x.max())}


# --- availability -------------------------------------------------------------------------------

def inventory_from_bom(bom: dict, space: FailureSpace, rel: Reliability) -> dict:
    """Component counts from a result file's provisioning bill of materials."""
    return {"chips": int(bom.get("chips", space.chips)), "boards": _boards(space, rel), **_bom_counts(bom),
            "source": "the result file's bill of materials"}


def inventory_from_graph(fabric: Fabric, space: FailureSpace, rel: Reliability) -> dict:
    """Counts from the fabric graph: links inside a board are traces, inside one cabinet copper,
    else (different or unknown cabinets) optical with a module at each end (an upper bound)."""
    graph = fabric.graph
    cab = np.array([graph.nodes[n].get("cabinet", -1) for n in range(graph.number_of_nodes())])
    board = np.array([graph.nodes[n].get("board", -1) for n in range(graph.number_of_nodes())])
    same_board = (board[space.u] >= 0) & (board[space.u] == board[space.v])
    same_cab = (cab[space.u] >= 0) & (cab[space.u] == cab[space.v]) & ~same_board
    optical = ~same_board & ~same_cab
    roles = {n: graph.nodes[n].get("role", "") for n in space.switches.tolist()}
    low = np.array([roles[n] not in _HIGH_RADIX_ROLES for n in space.switches.tolist()], dtype=bool)
    return {
        "chips": space.chips,
        "boards": _boards(space, rel),
        "optical-module": int(2 * space.units[optical].sum()),
        "aec": 0,
        "dac": int(space.units[same_cab].sum()),
        "switch": int(space.switch_units[~low].sum()),
        "low-radix-switch": int(space.switch_units[low].sum()),
        "source": "the fabric graph (no placement: links between cabinets counted as optical)",
    }


def availability_from_result(result: dict, rel: Reliability | None = None) -> dict | None:
    """Availability from a result file alone (its BOM and fabric summary; spares spread evenly over
    the chip cabinets), or None when it has no bill of materials. `rel` defaults to `Reliability()`."""
    rel = rel or Reliability()
    # a SuperCluster's inventory is its totals (G x the SuperPoD's BOM + the DCN's), as its fabric summary
    bom = (result.get("supercluster") or {}).get("totals") or (result.get("provisioning") or {}).get("bom")
    fabric = result.get("fabric") or {}
    if not isinstance(bom, dict) or "chips" not in bom:
        return None
    chips, spares, cabinets = int(bom["chips"]), int(fabric.get("spare_chips", 0)), int(fabric.get("chip_cabinets", 0))
    groups = [(chips // cabinets, spares // cabinets)] * cabinets if spares and cabinets else []
    inventory = _bom_counts(bom) | {"chips": chips, "boards": math.ceil(chips / rel.chips_per_board),
                                     "source": "the result file's bill of materials"}
    return _finite(availability(inventory, groups, rel))


def _bom_counts(bom: dict) -> dict:
    cables = bom.get("cables_by_medium", {})
    switches = bom.get("switches", {})
    return {
        "optical-module": int(bom.get("optical_modules", 0)),
        "aec": int(sum(n for m, n in cables.items() if m.startswith("aec"))),
        "dac": int(sum(n for m, n in cables.items() if m.startswith("dac"))),
        "switch": int(sum(n for t, n in switches.items() if SWITCHES.get(t) is None or SWITCHES[t].high_radix)),
        "low-radix-switch": int(sum(n for t, n in switches.items() if t in SWITCHES and not SWITCHES[t].high_radix)),
    }


def _boards(space: FailureSpace, rel: Reliability) -> int:
    boards = {space.net.graph.nodes[c].get("board", -1) for c in range(space.chips)}
    boards.discard(-1)
    return len(boards) or math.ceil(space.chips / rel.chips_per_board)


_NETWORK = ("optical-module", "aec", "dac", "switch", "low-radix-switch")


def spare_groups(space: FailureSpace) -> list[tuple[int, int]]:
    """(chips, spares) of every cabinet that holds spares."""
    return [(int((space.cabinet == cab).sum()), len(s)) for cab, s in sorted(space.spares.items()) if s]


def availability(inventory: dict, spare_groups: list[tuple[int, int]], rel: Reliability) -> dict:
    """Failure rates per component class, what each does to the job, MTBF and availability."""
    spared_chips = sum(g for g, _ in spare_groups)
    lam_chip = FAILURE_RATES["chip"].per_hour
    detect_h = rel.detection_s / 3600
    stop_h, spare_h = detect_h + rel.mttr_h, detect_h + rel.migration_s / 3600
    link_h = stop_h if rel.links_stop_job else detect_h
    classes = []

    def add(name: str, count: float, rate: float, action: str, downtime_h: float) -> None:
        classes.append({"component": name, "count": count, "fit_each": rate * 1e9,
                        "rate_per_h": count * rate, "action": action, "downtime_h": downtime_h})

    if spared_chips:
        add("chip (spared)", spared_chips, lam_chip, "spare", spare_h)
        second = sum(g * lam_chip * ((g - 1) * lam_chip * rel.mttr_h) ** s / math.factorial(s) for g, s in spare_groups)
        add("chip (second in a spared cabinet)", 1, second, "stop", stop_h)
    if inventory["chips"] - spared_chips > 0:
        add("chip", inventory["chips"] - spared_chips, lam_chip, "stop", stop_h)
    add("board", inventory["boards"], FAILURE_RATES["board"].per_hour, "stop", stop_h)
    for name in _NETWORK:
        add(name, inventory[name], FAILURE_RATES[name].per_hour, "stop" if rel.links_stop_job else "reroute", link_h)
    fabric = sum(c["rate_per_h"] for c in classes if c["component"] in _NETWORK)
    stopping = sum(c["rate_per_h"] for c in classes if c["action"] == "stop")
    interrupting = sum(c["rate_per_h"] for c in classes if c["action"] in ("stop", "spare"))
    down = sum(c["rate_per_h"] * c["downtime_h"] for c in classes)
    mtbf_fabric = 1 / fabric if fabric else math.inf
    return {
        "inventory": inventory,
        "classes": classes,
        "fabric_rate_per_h": fabric,
        "fabric_mtbf_h": mtbf_fabric,
        "fabric_availability": mtbf_fabric / (mtbf_fabric + rel.mttr_h),
        "job_stop_rate_per_h": stopping,
        "job_stop_mtbf_h": 1 / stopping if stopping else math.inf,
        "job_interrupt_mtbf_h": 1 / interrupting if interrupting else math.inf,
        "availability": 1 / (1 + down),
        "reliability": dataclasses.asdict(rel),
        "rates_fit": {k: {"fit": r.fit, "sources": list(r.sources), "assumptions": list(r.assumptions)}
                      for k, r in FAILURE_RATES.items()},
    }


def cable_GBps(instance: Instance) -> float:
    """The bandwidth of one physical link: the widest medium the instance lists."""
    return max((m.bandwidth_GBps for m in instance.media), default=_DEFAULT_CABLE_GBPS)


# --- the report ---------------------------------------------------------------------------------

def resilience_report(instance: Instance, graph: Fabric, bom: dict | None, counts: dict[str, int] | None,
                      scenario: dict | None, trials: int, seed: int, collectives: Sequence[str],
                      sizes: Sequence[int], scenario_file: str = "") -> dict:
    """Availability of the design and the distribution of its collectives' times under failures."""
    p = plan(graph, collectives, sizes, cable_GBps=cable_GBps(instance))
    rel = instance.reliability
    inventory = inventory_from_bom(bom, p.space, rel) if bom else inventory_from_graph(graph, p.space, rel)
    named = named_failures(p.space, scenario, scenario_file) if scenario is not None else None
    result = run_trials(p, counts, trials, seed, named)
    return {
        "instance": instance.name,
        "failures": {"scenario": scenario_file} if named is not None else {
            k: {"count": counts.get(k, 0), "of": p.space.population(k)} for k in FAIL_KINDS},
        "seed": seed,
        "method": "perturbation of the symmetric solution (see topo_opt.resilience)",
        "availability": _finite(availability(inventory, spare_groups(p.space), rel)),
        **result,
    }


def _finite(value):
    """inf (no failures of a kind) as None, so the JSON stays standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def format_resilience(report: dict) -> str:
    a = report["availability"]
    fail = report["failures"]
    what = (f"scenario {fail['scenario']}" if "scenario" in fail else
            ", ".join(f"{k} {v['count']:,} of {v['of']:,}" for k, v in fail.items() if v["count"]) or "nothing")
    hours = lambda h: "never" if h is None else f"{h:,.1f} h"  # noqa: E731
    lines = [
        f"{report['instance']}: {report['trials']} trial(s), failed {what}, seed {report['seed']}",
        f"  fabric failure rate {a['fabric_rate_per_h']:.4g}/h (MTBF {hours(a['fabric_mtbf_h'])}, "
        f"network availability {a['fabric_availability']:.2%} at MTTR {a['reliability']['mttr_h']} h)",
        f"  job: MTBF of stopping events {hours(a['job_stop_mtbf_h'])}, of interruptions "
        f"{hours(a['job_interrupt_mtbf_h'])}; availability {a['availability']:.3%}",
        f"  counts from {a['inventory']['source']}",
        "  collective      algorithm     size        intact      median eff  min eff  stopped  worst cause",
    ]
    for r in report["records"]:
        eff = r["efficiency"]
        med = "-" if eff["median"] is None else f"{eff['median']:.3f}"
        low = "-" if eff["min"] is None else f"{eff['min']:.3f}"
        lines.append(f"  {r['collective']:<15} {r['algorithm']:<13} {r['size_bytes']:>11,} "
                     f"{r['intact_time_s'] * 1e3:9.4f} ms  {med:>10}  {low:>7}  {r['stopped_trials']:>7}  "
                     f"{r['worst']['cause']}")
    return "\n".join(lines)
