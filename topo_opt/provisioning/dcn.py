"""DCN provisioning of a SuperCluster: switch boxes, cables and optics of the rail-aligned network
that joins G SuperPoDs of P chips (`families.supercluster`). Pure: no solver, no files.

Tiers. Chip position c of every SuperPoD is on plane c (P planes). With p ports per chip a plane
has n = ceil(G p) ports (for fractional p the round-up may leave a port unused). With switch
radix r:
- n <= r: one tier. Planes share boxes: floor(r / n) planes per box, ceil(P / floor(r / n)) boxes.
- r < n <= r^2 / 2: a non-blocking two-tier leaf-spine per plane: h = floor(r / 2) down- and
  uplinks per leaf, L = ceil(n / h) leaves, S = ceil(L h / r) spines, L h leaf-spine cables;
  P L leaves, P S spines in all.
- n > r^2 / 2: more than two tiers, refused (InfeasibleError, exit 3).
The switch type is the catalog's with port_GBps = dcn.port_GBps and radix = dcn.switch_radix.

Cables. Every chip port is one cable from its SuperPoD's hall to the DCN hall: ceil(P p) cables
per SuperPoD, each as long as that SuperPoD's run (`placement.hall`). A run of length L takes
the cheapest medium (cost_usd + cost_usd_per_m L per cable) among the instance's media that reach
L and carry a port (bandwidth_GBps >= port_GBps): one port needs one cable whatever its spare
bandwidth, so the price per cable, not per GB/s, decides. Leaf-spine cables stay in the DCN hall
(`INNER_RUN`).

cost_usd  = sum cables x cable_cost_usd(length) + boxes x switch cost_usd
power_kw  = (sum cables x medium power_w + boxes x switch power_w) / 1000
"""

import math
from collections import Counter
from dataclasses import dataclass

from topo_opt.catalog import SWITCHES, MediumType, SwitchType
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.families.supercluster import DcnParams
from topo_opt.physical import length_bucket, length_bucket_order

# A leaf-spine cable inside the DCN hall, taken as a square of side pitch_m: the mean Manhattan
# distance between two uniform points of a square of side a is 2a/3, plus the slack.
INNER_RUN = 2 / 3


@dataclass(frozen=True)
class DcnTiers:
    """Switch boxes of the DCN: `leaves` are the boxes the chips' cables land on (all of them in
    one tier), `spines` the second tier (0 in one tier)."""

    ports_per_plane: int
    planes: int
    tiers: int
    planes_per_box: int  # one tier; 0 in two tiers
    leaves_per_plane: int  # two tiers; 0 in one tier
    spines_per_plane: int
    leaves: int
    spines: int
    leaf_spine_cables: int

    @property
    def boxes(self) -> int:
        return self.leaves + self.spines


@dataclass(frozen=True)
class CableRun:
    """`count` cables of `medium` and `length_m` each (`where`: hall-to-DCN or inside the DCN hall)."""

    where: str
    medium: str
    length_m: float
    count: int
    cost_usd: float
    power_kw: float
    optical_modules: int


@dataclass(frozen=True)
class DcnPlan:
    switch: SwitchType
    tiers: DcnTiers
    runs: tuple[CableRun, ...]
    cabinets: int

    @property
    def switch_cost_usd(self) -> float:
        return self.tiers.boxes * self.switch.cost_usd

    @property
    def switch_power_kw(self) -> float:
        return self.tiers.boxes * self.switch.power_w / 1000

    @property
    def cables(self) -> int:
        return sum(r.count for r in self.runs)

    @property
    def optical_modules(self) -> int:
        return sum(r.optical_modules for r in self.runs)

    @property
    def cable_cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.runs)

    @property
    def cable_power_kw(self) -> float:
        return sum(r.power_kw for r in self.runs)

    @property
    def cost_usd(self) -> float:
        return self.cable_cost_usd + self.switch_cost_usd

    @property
    def power_kw(self) -> float:
        return self.cable_power_kw + self.switch_power_kw

    def bom_lines(self) -> list[dict]:
        """Cables by medium and length bucket, as `provisioning.bom` lists them."""
        counts: Counter = Counter()
        for r in self.runs:
            counts[(r.medium, length_bucket(r.length_m))] += r.count
        return [{"medium": m, "length": b, "count": n} for (m, b), n in
                sorted(counts.items(), key=lambda kv: (kv[0][0], length_bucket_order(kv[0][1])))]

    @property
    def cables_by_medium(self) -> dict[str, int]:
        by_medium: Counter = Counter()
        for r in self.runs:
            by_medium[r.medium] += r.count
        return dict(sorted(by_medium.items()))

    def to_dict(self) -> dict:
        t = self.tiers
        return {
            "switch": self.switch.name, "tiers": t.tiers, "planes": t.planes,
            "ports_per_plane": t.ports_per_plane, "planes_per_box": t.planes_per_box,
            "leaves_per_plane": t.leaves_per_plane, "spines_per_plane": t.spines_per_plane,
            "switches": {self.switch.name: t.boxes}, "leaves": t.leaves, "spines": t.spines,
            "cabinets": self.cabinets,
            "runs": [{"where": r.where, "medium": r.medium, "length_m": r.length_m, "cables": r.count,
                      "cost_usd": r.cost_usd, "power_kw": r.power_kw, "optical_modules": r.optical_modules}
                     for r in self.runs],
            "cables": self.bom_lines(),
            "cables_by_medium": self.cables_by_medium,
            "cables_total": self.cables, "optical_modules": self.optical_modules,
            "cost_breakdown_usd": {"cables_and_optics": self.cable_cost_usd, "switches": self.switch_cost_usd},
            "power_breakdown_kw": {"cables_and_optics": self.cable_power_kw, "switches": self.switch_power_kw},
            "cost_usd": self.cost_usd, "power_kw": self.power_kw,
        }


def whole_ports(chips: int, ports_per_chip: float) -> int:
    """ceil(chips x ports_per_chip): ports (and cables) of `chips` chips, a fraction rounding up."""
    return math.ceil(chips * ports_per_chip - 1e-9)


def network_summary(superpods: int, superpod_chips: int, ports_per_chip: float, tiers: DcnTiers) -> dict:
    """The DCN's switches, links and lanes, and its chip-to-chip hops (2 per tier), as the
    SuperCluster's fabric summary counts them (`fabric.analysis.summarize_structured`)."""
    roles = {"dcn": tiers.leaves} if tiers.tiers == 1 else {"dcn-leaf": tiers.leaves, "dcn-spine": tiers.spines}
    links = {"dcn": superpods * whole_ports(superpod_chips, ports_per_chip)}
    if tiers.leaf_spine_cables:
        links["dcn-leaf-spine"] = tiers.leaf_spine_cables
    return {"switches_by_role": roles, "links_by_kind": links, "route_hops": 2 * tiers.tiers,
            "lanes_by_kind": {"dcn": superpods * superpod_chips * ports_per_chip}}


def dcn_tiers(superpods: int, planes: int, ports_per_chip: float, radix: int) -> DcnTiers:
    """Boxes per the module docstring; InfeasibleError beyond two tiers."""
    n = whole_ports(superpods, ports_per_chip)
    if n <= radix:
        per_box = radix // n
        return DcnTiers(n, planes, 1, per_box, 0, 0, math.ceil(planes / per_box), 0, 0)
    half = radix // 2
    if n > radix * half:
        raise InfeasibleError(
            f"dcn: a plane of {n:,} ports (superpods x ports_per_chip) needs more than two switch tiers: "
            f"a non-blocking leaf-spine of radix {radix} reaches r^2/2 = {radix * half:,} ports; "
            "raise dcn.switch_radix or use fewer SuperPoDs")
    leaves = math.ceil(n / half)
    spines = math.ceil(leaves * half / radix)
    return DcnTiers(n, planes, 2, 0, leaves, spines, planes * leaves, planes * spines, planes * leaves * half)


def dcn_switch(port_GBps: float, radix: int, file: str) -> SwitchType:
    """The catalog switch with this port speed and radix (InstanceError naming the options)."""
    for s in sorted(SWITCHES.values(), key=lambda s: s.name):
        if s.radix == radix and abs(s.port_GBps - port_GBps) <= 1e-9 * port_GBps:
            return s
    have = ", ".join(f"{s.name} ({s.radix} x {s.port_GBps:g} GB/s)" for s in SWITCHES.values() if s.high_radix)
    raise InstanceError(file, "fabric.dcn", f"no catalog switch has {radix} ports of {port_GBps:g} GB/s "
                                            f"(switch_radix x port_GBps); catalog: {have}")


def dcn_medium(media: tuple[MediumType, ...], length_m: float, port_GBps: float) -> MediumType | None:
    """The cheapest cable of this length among the media that reach it and carry one port."""
    fits = [m for m in media if m.reach_m >= length_m and m.bandwidth_GBps >= port_GBps - 1e-9]
    return min(fits, key=lambda m: (m.cable_cost_usd(length_m), m.name)) if fits else None


def cable_run(where: str, media: tuple[MediumType, ...], length_m: float, count: int,
              port_GBps: float) -> CableRun:
    medium = dcn_medium(media, length_m, port_GBps)
    if medium is None:
        carrying = [m for m in media if m.bandwidth_GBps >= port_GBps - 1e-9]
        reach = max((m.reach_m for m in carrying), default=0.0)
        raise InfeasibleError(
            f"dcn: the longest run, {where}, is {length_m:,.1f} m but the longest reach of the instance's media "
            f"that carry a {port_GBps:g} GB/s port is {reach:g} m; add a longer-reach medium to `media` or "
            "shorten hall.pitch_m")
    return CableRun(where, medium.name, length_m, count, count * medium.cable_cost_usd(length_m),
                    count * medium.power_w / 1000, count * medium.optical_modules)


def provision_dcn(superpods: int, superpod_chips: int, dcn: DcnParams, run_lengths_m: tuple[float, ...],
                  media: tuple[MediumType, ...], inner_run_m: float, cabinet_switches: int,
                  file: str) -> DcnPlan:
    """The DCN plan: `dcn` the family's DcnParams, `run_lengths_m[s]` SuperPoD s's run to the DCN
    hall, `inner_run_m` a leaf-spine cable inside the DCN hall. The longest run is checked first, so
    a run no medium reaches is named by its length."""
    switch = dcn_switch(dcn.port_GBps, dcn.switch_radix, file)
    tiers = dcn_tiers(superpods, superpod_chips, dcn.ports_per_chip, dcn.switch_radix)
    per_pod = whole_ports(superpod_chips, dcn.ports_per_chip)
    longest_first = sorted(range(len(run_lengths_m)), key=lambda s: (-run_lengths_m[s], s))
    by_pod = {s: cable_run(f"SuperPoD {s} to the DCN hall", media, run_lengths_m[s], per_pod, dcn.port_GBps)
              for s in longest_first}
    runs = [by_pod[s] for s in range(len(run_lengths_m))]
    if tiers.leaf_spine_cables:
        runs.append(cable_run("leaf-spine inside the DCN hall", media, inner_run_m, tiers.leaf_spine_cables,
                              dcn.port_GBps))
    return DcnPlan(switch, tiers, tuple(runs), math.ceil(tiers.boxes / cabinet_switches))
