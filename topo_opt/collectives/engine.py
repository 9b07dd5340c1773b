"""Timing a schedule: each step routed and timed, steps summed; identical steps timed once.

A step takes alpha + transfer (see `fluid`). Flows follow the evaluator's routing (`routing`):
dimension order where the family defines it (`structured`), or shortest paths over the whole
graph (`shortest`, which ignores the dimensions a schedule names). Three ways to time a step,
all giving the same answer:

- **symmetric** — aligned groups and translation-invariant steps (`Shift`s) on a product fabric
  (`symmetric` for dimension order, `shortest` for shortest paths), or every chip to every
  other on a torus (`translation`): representative chips, whatever the chip count;
- **switch-level** — steps of equal flows on a fabric whose chips each hang off one switch and
  that is no product (`switchlevel`): flows counted per chip and per switch pair, never routed one by one;
- **per-flow** — everything else: the flows of every group are routed (`routing`) into a sparse
  (links x flows) matrix;
- **brute-force** — every flow routed on its own with networkx into a dense matrix, timed by
  progressive filling (`brute`); for tests on small fabrics.

Steps are cached by content with bytes normalised, since time scales linearly with bytes when
every flow of a step scales together: one routing serves every message size.
"""

import hashlib
import math
import weakref
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import hstack

from topo_opt.collectives import brute
from topo_opt.collectives.algorithms import NotApplicable
from topo_opt.collectives.fluid import transfer_time
from topo_opt.collectives.groups import Groups
from topo_opt.collectives.routing import MAX_ROUTE_ENTRIES, Network
from topo_opt.collectives.schedule import STAR, Explicit, Schedule, Shift, Step, pipeline_latency_s, shift_pairs
from topo_opt.collectives.shortest import shortest_step
from topo_opt.collectives.switchlevel import switch_level_step
from topo_opt.collectives.symmetric import symmetric_step
from topo_opt.collectives.translation import all_peers_step

MAX_FLOWS = 4_000_000  # chip flows a schedule may route one by one before it is refused


@dataclass(frozen=True)
class Timing:
    time_s: float
    busy_s: np.ndarray  # seconds each directed link is busy over the whole collective
    steps: int
    engine: str


@dataclass(eq=False)
class Evaluator:
    net: Network
    groups: Groups
    model: str = "flow"
    routing: str = "structured"
    brute_force: bool = False
    _cache: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # size-free figures the scorer derives (bounds, latency floors)
    _routes: "_RouteStore" = field(init=False)

    def __post_init__(self) -> None:
        self._routes = _RouteStore(self.net, self.routing)

    def run(self, schedule: Schedule) -> Timing:
        """Sum of the steps' times; a pipelined schedule pays its steps' transfers and its longest
        step latency once per hop (cut-through), or the path latency it gives, not one latency
        per step; its steps are periods, each as long as its busiest link is busy (flow model)."""
        total, latency = 0.0, 0.0
        busy = np.zeros(len(self.net.links.tail))
        engines = set()
        periodic = schedule.hops > 0
        keys = [step_key(step, step_scale(step)) + bytes([periodic]) for step in schedule.steps]
        self._prefetch(schedule, keys)
        for step, key in zip(schedule.steps, keys, strict=True):
            scale = step_scale(step)
            if key not in self._cache:
                self._cache[key] = self._time(step, scale, periodic)
            alpha, transfer, links, seconds, engine = self._cache[key]
            total += step.repeat * (scale * transfer + (0.0 if periodic else alpha))
            latency = max(latency, alpha)
            np.add.at(busy, links, step.repeat * scale * seconds)
            engines.add(engine)
        total += pipeline_latency_s(schedule, latency)
        return Timing(total, busy, sum(s.repeat for s in schedule.steps), "+".join(sorted(engines)))

    def _symmetric(self, step: Step) -> bool:
        return (not self.brute_force and self.groups.axes is not None
                and all(isinstance(p, Shift) for p in step.parts)
                and (self.routing == "structured" or self.net.symmetry() is not None))

    def _all_peers(self, step: Step) -> bool:
        """Every chip of the fabric sends to every other, on a fabric with translations."""
        g = self.groups
        return (not self.brute_force and self.net.translations is not None and g.count == 1
                and g.p == self.net.chips
                and all(isinstance(p, Shift) and p.offset == (STAR,) for p in step.parts))

    def _switch_level(self, step: Step) -> bool:
        """Equal flows on a switch-level network (the flow model's makespan is then its busiest link's)."""
        return not self.brute_force and self.net.switch_level and _equal_flows(step)

    def _summed(self, step: Step) -> bool:
        """A period of a pipeline whose flows differ in size, timed from per-link loads without
        listing its flows' routes (flow model, dimension-order routing on a product fabric).
        Equal flows take the per-flow path, whose routes later stages of the pipeline reuse."""
        return (not self.brute_force and self.model == "flow" and self.routing == "structured"
                and self.net.view is not None and not self.net.structured and not self._symmetric(step)
                and not _equal_flows(step))

    def _prefetch(self, schedule: Schedule, keys: list[bytes]) -> None:
        """Route the new chip pairs of all per-flow steps at once (one batch per `via`); `keys` are
        the steps' cache keys."""
        if self.brute_force:
            return
        periodic = schedule.hops > 0
        pending = [s for s, key in zip(schedule.steps, keys, strict=True)
                   if key not in self._cache and not (self._symmetric(s) or self._all_peers(s) or self._switch_level(s)
                                                      or (periodic and self._summed(s)))]
        if not pending:
            return
        if self.net.structured:
            raise NotApplicable("it needs per-flow routing, which the structured scorer does not do "
                                "(score with the per-chip graph where it fits)")
        flows = sum(_flow_count(self.groups, p) for s in pending for p in s.parts)
        if flows > MAX_FLOWS:
            raise NotApplicable(f"{flows:,} chip flows in {len(pending):,} distinct steps are too many to "
                                "route flow by flow (no symmetric form for this schedule on this fabric)")
        src, dst, _, via = self._flows([p for s in pending for p in s.parts])
        for label, idx in via.items():
            self._routes.get(label, src[idx], dst[idx])

    def _time(self, step: Step, scale: float, periodic: bool = False):
        """(alpha_s, transfer_s per byte scale, link ids, busy seconds per byte scale, engine).
        A period of a pipeline (`periodic`) lasts as long as its busiest link is busy: every link
        sends its share of each chunk at full rate, which for equal flows is also the max-min
        makespan, and for unequal ones what a steady pipeline achieves (not simultaneous starts)."""
        parts = [_scaled(p, 1.0 / scale) for p in step.parts]
        net = self.net
        if periodic and self._summed(step):
            src, dst, size, via = self._flows(parts)
            loads, latency = np.zeros(len(net.links.tail)), np.zeros(len(src))
            for label, idx in via.items():
                more, latency[idx] = net.loads(src[idx], dst[idx], size[idx], label)
                loads += more
            per_link = loads / (net.links.capacity_GBps * 1e9)
            used = np.flatnonzero(per_link > 0)
            return float(latency.max(initial=0.0)) * 1e-9, float(per_link.max()), used, per_link[used], "per-flow"
        if self._symmetric(step) and self.routing == "shortest":
            alpha, transfer, links, seconds = shortest_step(net.symmetry(), net.subnet().full, net.links,
                                                            self.groups.chips, self.groups.shape.shape,
                                                            parts, self.model)
            return alpha, transfer, links, seconds, "symmetric"
        if self._all_peers(step) or self._symmetric(step):
            if self._all_peers(step):
                sizes = np.array([p.size_bytes for p in parts])
                alpha, transfer, busy = all_peers_step(net.single_source(), net.subnet().full,
                                                       net.links, sizes, self.model)
            else:
                alpha, transfer, busy = symmetric_step(net, self.groups.axes, parts, self.model)
            links = np.array(list(busy), dtype=np.int64)
            return alpha, transfer, links, np.array(list(busy.values())), "symmetric"
        if self._switch_level(step):
            star = [p for p in parts if isinstance(p, Shift) and set(p.offset) == {STAR}]
            rest = [p for p in parts if not (isinstance(p, Shift) and set(p.offset) == {STAR})]
            src, dst = (self._flows(rest)[:2] if rest else (np.zeros(0, dtype=np.int64),) * 2)
            return (*switch_level_step(net, self.groups.chips, len(star), src, dst, step_scale(Step(tuple(parts))),
                                       self.model), "switch-level")
        src, dst, size, via = self._flows(parts)
        cap = net.links.capacity_GBps * 1e9
        busiest = periodic and self.model == "flow"
        if self.brute_force:
            a, latency = _dense(net, src, dst, via, self.routing)
            transfer = None if busiest else transfer_time(a, cap, size, self.model, exact=True)
            engine = "brute-force"
        else:
            a, latency, order = self._sparse(src, dst, via)
            size = size[order]
            transfer = None if busiest else transfer_time(a, cap, size, self.model)
            engine = "per-flow"
        per_link = np.asarray(a @ size).ravel() / cap
        if busiest:
            transfer = float(per_link.max())
        used = np.flatnonzero(per_link > 0)
        return float(latency.max(initial=0.0)) * 1e-9, transfer, used, per_link[used], engine

    def _flows(self, parts: list):
        """`chip_flows`, with every flow routed alike under the shortest routing (no `via`)."""
        src, dst, size, via = chip_flows(self.groups, parts)
        if self.routing == "shortest":
            via = {(): np.concatenate(list(via.values()))}
        return src, dst, size, via

    def _sparse(self, src, dst, via):
        blocks, latency, order = [], [], []
        for label, idx in via.items():
            a, lat = self._routes.get(label, src[idx], dst[idx])
            blocks.append(a)
            latency.append(lat)
            order.append(idx)
        a = hstack(blocks).tocsr() if len(blocks) > 1 else blocks[0].tocsr()
        return a, np.concatenate(latency), np.concatenate(order)


@dataclass(eq=False)
class _RouteStore:
    """Routes of every chip pair met so far, per `via`: each pair is routed once per evaluator."""

    net: Network
    routing: str
    keys: dict = field(default_factory=dict)  # via -> sorted pair keys (src * nodes + dst)
    columns: dict = field(default_factory=dict)  # via -> (links x pairs) CSC matrix
    latency: dict = field(default_factory=dict)  # via -> latency_ns per pair

    def get(self, via: tuple[str, ...], src: np.ndarray, dst: np.ndarray):
        n = self.net.links.nodes
        key = src * n + dst
        have = self.keys.get(via, np.zeros(0, dtype=np.int64))
        pos = np.minimum(np.searchsorted(have, key), max(len(have) - 1, 0))
        known = (have[pos] == key) if len(have) else np.zeros(len(key), dtype=bool)
        missing = np.unique(key[~known]) if not known.all() else np.zeros(0, dtype=np.int64)
        if missing.size:
            if self.net.hops_estimate(missing // n, missing % n) > MAX_ROUTE_ENTRIES:
                raise NotApplicable(f"a step of {missing.size:,} new flows is too large to route flow by "
                                    "flow (no symmetric form for this schedule on this fabric)")
            routes = self.net.route(missing // n, missing % n, via, self.routing)
            new = routes.matrix(len(self.net.links.tail)).tocsc()
            every = np.concatenate([have, missing])
            order = np.argsort(every, kind="stable")
            matrix = hstack([self.columns[via], new]).tocsc() if have.size else new
            self.columns[via] = matrix[:, order]
            self.latency[via] = np.concatenate([self.latency.get(via, np.zeros(0)), routes.latency_ns])[order]
            self.keys[via] = every[order]
        pos = np.searchsorted(self.keys[via], key)
        return self.columns[via][:, pos], self.latency[via][pos]


def _equal_flows(step: Step) -> bool:
    sizes = np.concatenate([np.atleast_1d(np.asarray(p.size_bytes, dtype=float)) for p in step.parts])
    return bool(np.ptp(sizes) <= 1e-9 * sizes.max())


def _flow_count(g: Groups, part) -> int:
    if isinstance(part, Shift):
        star = math.prod(k - 1 for k, o in zip(g.shape.shape, part.offset, strict=True) if o == STAR)
        return g.p * star * g.count
    return len(part.src) * g.count


def chip_flows(g: Groups, parts: list):
    """Chip-level flows of every group: (src, dst, bytes, {via: flow indices})."""
    src, dst, size, via = [], [], [], {}
    count = 0
    for part in parts:
        if isinstance(part, Shift):
            s, d = shift_pairs(g.shape.shape, part)
            b = np.full(len(s), part.size_bytes)
        else:
            s, d, b = part.src, part.dst, part.size_bytes
        src.append(g.chips[:, s].ravel())
        dst.append(g.chips[:, d].ravel())
        size.append(np.tile(b, g.count))
        via.setdefault(part.via, []).append(np.arange(count, count + len(s) * g.count))
        count += len(s) * g.count
    src, dst, size = np.concatenate(src), np.concatenate(dst), np.concatenate(size)
    return src, dst, size, {label: np.concatenate(idx) for label, idx in via.items()}


def _dense(net: Network, src, dst, via, routing: str):
    a = np.zeros((len(net.links.tail), len(src)))
    latency = np.zeros(len(src))
    for label, idx in via.items():
        a[:, idx], latency[idx] = brute.route_dense(net, src[idx], dst[idx], label, routing)
    return a, latency


def step_scale(step: Step) -> float:
    """The step's largest flow, in bytes: steps are timed per unit of it."""
    return max(float(p.size_bytes) if isinstance(p, Shift) else float(p.size_bytes.max()) for p in step.parts)


def _scaled(part, factor: float):
    if isinstance(part, Shift):
        return Shift(part.offset, part.size_bytes * factor, part.via)
    return Explicit(part.src, part.dst, part.size_bytes * factor, part.via)


_DIGESTS: dict[int, bytes] = {}


def _digest(a: np.ndarray) -> bytes:
    """A digest of an array's bytes (its buffer, not a copy: steps can hold millions of flows); kept
    for a read-only array while it lives, since schedules of every size share such arrays."""
    if a.flags.writeable or a.base is not None:
        return hashlib.blake2b(np.ascontiguousarray(a).data, digest_size=16).digest()
    key = id(a)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.blake2b(np.ascontiguousarray(a).data, digest_size=16).digest()
        weakref.finalize(a, _DIGESTS.pop, key, None)
    return _DIGESTS[key]


def step_key(step: Step, scale: float) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for part in step.parts:
        if isinstance(part, Shift):
            h.update(repr((part.offset, round(part.size_bytes / scale, 12), part.via)).encode())
        else:
            h.update(_digest(part.src))
            h.update(_digest(part.dst))
            h.update(np.round(part.size_bytes / scale, 12).data)
            h.update(repr(part.via).encode())
        h.update(b"|")
    return h.digest()
