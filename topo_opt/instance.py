"""Instance model: frozen dataclasses and their validation.

An instance is a YAML mapping. Only `name` and `fabric` are required; the physical sections
(`chip`, `cabinets`, `floor`, `media`) are needed by `place`/`provision`/`solve`, and `workload`
by provisioning. Every error names the file and the dotted path of the field (`fabric.dims[0].size`)
and says how to fix it, in one line.

Parsing is driven by the dataclasses themselves: each field's annotation gives its type, its
default makes it optional, and `metadata={"min": 0}` allows zero where a size may be zero.
"""

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from topo_opt.catalog import CHIPS, MEDIA, MEDIUM_KINDS, ChipType, MediumType
from topo_opt.errors import InstanceError
from topo_opt.units import parse_size_bytes

COLLECTIVES = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "broadcast")
FAMILIES = ("dims", "ub-mesh", "clos", "torus", "dragonfly")
DIM_SHAPES = ("ring", "full-mesh", "switch")


def _zero_ok(**kw: Any) -> Any:
    """A field that may be zero (sizes are positive unless marked so)."""
    return field(metadata={"min": 0}, **kw)


# --- fabric parameters, one dataclass per family -------------------------------------------------

@dataclass(frozen=True)
class DimSpec:
    """One dimension of a `dims` fabric: ring, full-mesh or switch of `size` chips."""

    shape: str
    size: int
    bandwidth_GBps: float
    latency_ns: float = _zero_ok(default=500.0)


@dataclass(frozen=True)
class DimsParams:
    dims: tuple[DimSpec, ...]


@dataclass(frozen=True)
class UbMeshParams:
    """UB-Mesh nD-FullMesh (arXiv 2503.20377). Lane counts are per NPU; `lane_GBps` per lane and direction.

    X: full mesh of `board_npus` on a board; Y: full mesh of the same-index NPUs of the
    `rack_boards` boards of a rack; Z/W: full meshes of the racks in a row / column of the
    `pod_rows` x `pod_cols` pod; pods joined by a two-tier Clos of high-radix switches (HRS);
    each rack has a low-radix switch (LRS) with `spare_npus` spare NPUs behind it.
    """

    board_npus: int = 8
    rack_boards: int = 8
    pod_rows: int = 4
    pod_cols: int = 4
    pods: int = 1
    lanes_total: int = 72
    lanes_x: int = 24
    lanes_y: int = 24
    lanes_inter_rack: int = 16
    lanes_uplink: int = _zero_ok(default=4)
    lanes_lrs: int = _zero_ok(default=4)
    lane_GBps: float = 0.0  # 0 = the chip's interconnect_GBps / lanes_total
    hrs_radix_lanes: int = 512
    spare_npus: int = _zero_ok(default=1)
    latency_board_ns: float = _zero_ok(default=150.0)
    latency_rack_ns: float = _zero_ok(default=200.0)
    latency_inter_rack_ns: float = _zero_ok(default=400.0)
    latency_switch_ns: float = _zero_ok(default=300.0)

    @property
    def rack_npus(self) -> int:
        return self.board_npus * self.rack_boards

    @property
    def pod_racks(self) -> int:
        return self.pod_rows * self.pod_cols

    @property
    def chips(self) -> int:
        return self.rack_npus * self.pod_racks * self.pods


@dataclass(frozen=True)
class ClosParams:
    """Fat-tree / leaf-spine of `tiers` switch tiers, or the rail-optimized variant.

    `oversubscription` is the leaf's down:up bandwidth ratio (1 = non-blocking). In the
    rail-optimized variant, servers of `server_chips` chips share an internal domain of
    `server_GBps` per chip, and local rank r of every server connects to the leaves of rail r.
    """

    chips: int
    radix: int = 64
    port_GBps: float = 100.0
    tiers: int = 2
    oversubscription: float = 1.0
    variant: str = "fat-tree"
    server_chips: int = 8
    server_GBps: float = 450.0
    latency_ns: float = _zero_ok(default=600.0)
    server_latency_ns: float = _zero_ok(default=250.0)

    def leaf_ports(self) -> tuple[int, int]:
        """(down, up) ports of a leaf with down:up = oversubscription; non-blocking: radix/2 each."""
        down = int(round(self.radix * self.oversubscription / (1 + self.oversubscription)))
        down = min(max(down, 1), self.radix - 1)
        return down, self.radix - down

    def leaves(self) -> int:
        """Leaf switches: ceil(chips / down), per rail in the rail-optimized variant."""
        down = self.leaf_ports()[0]
        if self.variant == "rail-optimized":
            return math.ceil(self.chips // self.server_chips / down) * self.server_chips
        return math.ceil(self.chips / down)

    def pods(self) -> int:
        """Three-tier pods of radix/2 leaves each."""
        return math.ceil(math.ceil(self.chips / self.leaf_ports()[0]) / (self.radix // 2))


@dataclass(frozen=True)
class TorusParams:
    """k-ary n-cube with wrap-around links; `twist` shifts the wrap-around links (TPU v4 style)."""

    shape: tuple[int, ...]
    bandwidth_GBps: float
    latency_ns: float = _zero_ok(default=500.0)
    twist: bool = False


@dataclass(frozen=True)
class DragonflyParams:
    """Groups of routers in a full mesh, every pair of groups joined by global links."""

    groups: int
    routers_per_group: int
    chips_per_router: int
    global_links_per_router: int
    bandwidth_GBps: float = 100.0
    global_bandwidth_GBps: float = 100.0
    latency_ns: float = _zero_ok(default=500.0)
    global_latency_ns: float = _zero_ok(default=1000.0)


FAMILY_PARAMS: dict[str, type] = {
    "dims": DimsParams, "ub-mesh": UbMeshParams, "clos": ClosParams,
    "torus": TorusParams, "dragonfly": DragonflyParams,
}


@dataclass(frozen=True)
class FabricSpec:
    family: str
    params: Any  # one of the *Params dataclasses above


# --- physical sections ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CabinetKind:
    """A kind of cabinet. `chips` is the chips one compute cabinet holds (0 for interconnect)."""

    kind: str  # compute | interconnect
    count: int
    power_cap_kw: float
    cooling: str  # liquid | air
    cooling_capacity_kw: float
    chips: int = _zero_ok(default=0)
    overhead_kw: float = _zero_ok(default=0.0)  # boards, CPUs, fans, power conversion
    switches: int = _zero_ok(default=0)  # switches housed (interconnect cabinets)
    switch_power_kw: float = _zero_ok(default=0.0)  # power of one housed switch


@dataclass(frozen=True)
class CoolingZone:
    name: str
    kind: str  # liquid | air
    rows: tuple[int, ...] = _zero_ok()  # rows may carry one zone of each kind (a liquid loop and air)
    capacity_kw: float


@dataclass(frozen=True)
class Floor:
    rows: int
    slots_per_row: int
    slot_width_m: float
    row_pitch_m: float
    row_power_kw: float
    cable_slack_m: float = _zero_ok(default=1.0)
    cooling_zones: tuple[CoolingZone, ...] = ()


@dataclass(frozen=True)
class Workload:
    collectives: tuple[str, ...] = ("all-reduce", "all-to-all")
    sizes: tuple[int, ...] = (2**20, 2**30)
    layout: str = ""  # e.g. "tp=8,pp=8,dp=128"
    target_throughput: float = 1.0  # max-concurrent-flow target for provisioning


@dataclass(frozen=True)
class Instance:
    name: str
    fabric: FabricSpec
    description: str = ""
    chip: ChipType | None = None
    cabinets: tuple[CabinetKind, ...] = ()
    floor: Floor | None = None
    media: tuple[MediumType, ...] = ()
    workload: Workload = Workload()
    source_file: str = ""
    assumptions: tuple[str, ...] = ()

    @property
    def has_physical(self) -> bool:
        return bool(self.chip and self.cabinets and self.floor and self.media)


# --- generic, annotation-driven parsing -----------------------------------------------------------

class _Ctx:
    """Where we are: file and dotted path, to name the field in every error."""

    def __init__(self, file: str, path: str = ""):
        self.file, self.path = file, path

    def at(self, key: str | int) -> "_Ctx":
        if isinstance(key, int):
            return _Ctx(self.file, f"{self.path}[{key}]")
        return _Ctx(self.file, f"{self.path}.{key}" if self.path else key)

    def fail(self, message: str) -> InstanceError:
        return InstanceError(self.file, self.path, message)


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp)))


def _scalar(value: Any, tp: type, ctx: _Ctx, min_value: float) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.fail(f"must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ctx.fail(f"must be a string, got {value!r}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.fail(f"must be {_type_name(tp)}, got {value!r}")
    if not math.isfinite(value):
        raise ctx.fail(f"must be a finite number, got {value!r}")
    if tp is int and value != int(value):
        raise ctx.fail(f"must be a whole number, got {value!r}")
    if value < min_value or (min_value > 0 and value <= 0) or (min_value == 0 and value < 0):
        raise ctx.fail(f"must be {'positive' if min_value > 0 else 'zero or more'}, got {value!r}")
    return tp(value)


def _parse(value: Any, tp: Any, ctx: _Ctx, min_value: float = 1e-300) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(value, tp, ctx)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ctx.fail(f"must be a list, got {value!r}")
        item_tp = typing.get_args(tp)[0]
        return tuple(_parse(v, item_tp, ctx.at(i), min_value) for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)][0]
        return None if value is None else _parse(value, inner, ctx, min_value)
    return _scalar(value, tp, ctx, min_value)


def _suggest(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"


def _parse_dataclass(value: Any, cls: type, ctx: _Ctx, skip: tuple[str, ...] = ()) -> Any:
    if not isinstance(value, Mapping):
        raise ctx.fail(f"must be a mapping of {cls.__name__} fields, got {value!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in value:
        if key not in fields:
            raise ctx.at(str(key)).fail("unknown field" + _suggest(str(key), list(fields)))
    kwargs = {}
    for name, f in fields.items():
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ctx.at(name).fail("is required")
            continue
        kwargs[name] = _parse(value[name], hints[name], ctx.at(name), f.metadata.get("min", 1e-300))
    return cls(**kwargs)


def _choice(value: str, allowed: tuple[str, ...], ctx: _Ctx, what: str) -> str:
    if value not in allowed:
        raise ctx.fail(f"unknown {what} {value!r}" + _suggest(value, list(allowed)))
    return value


# --- sections -----------------------------------------------------------------------------------

def _parse_fabric(raw: Any, ctx: _Ctx) -> FabricSpec:
    if not isinstance(raw, Mapping):
        raise ctx.fail("must be a mapping with a `family` and its parameters")
    if "family" not in raw:
        raise ctx.at("family").fail(f"is required (one of {', '.join(FAMILIES)})")
    family = _choice(str(raw["family"]), FAMILIES, ctx.at("family"), "fabric family")
    rest = {k: v for k, v in raw.items() if k != "family"}
    params = _parse_dataclass(rest, FAMILY_PARAMS[family], ctx)
    _check_fabric(family, params, ctx)
    return FabricSpec(family, params)


def _check_fabric(family: str, p: Any, ctx: _Ctx) -> None:
    if family == "dims":
        if not p.dims:
            raise ctx.at("dims").fail("needs at least one dimension")
        for i, d in enumerate(p.dims):
            _choice(d.shape, DIM_SHAPES, ctx.at("dims").at(i).at("shape"), "dimension shape")
            if d.size < 2:
                raise ctx.at("dims").at(i).at("size").fail(f"must be at least 2, got {d.size}")
    elif family == "ub-mesh":
        used = p.lanes_x + p.lanes_y + p.lanes_inter_rack + p.lanes_uplink + p.lanes_lrs
        if used > p.lanes_total:
            raise ctx.at("lanes_total").fail(
                f"lanes_x + lanes_y + lanes_inter_rack + lanes_uplink + lanes_lrs = {used} "
                f"exceeds lanes_total = {p.lanes_total}; lower a share or raise the total")
        if p.pods > 1 and p.lanes_uplink == 0:
            raise ctx.at("lanes_uplink").fail("must be positive when pods > 1 (pods meet only through the HRS)")
    elif family == "clos":
        _choice(p.variant, ("fat-tree", "rail-optimized"), ctx.at("variant"), "clos variant")
        if p.tiers not in (2, 3):
            raise ctx.at("tiers").fail(f"must be 2 or 3, got {p.tiers}")
        if p.radix < 4 or p.radix % 2:
            raise ctx.at("radix").fail(f"must be an even number of ports >= 4, got {p.radix}")
        if p.tiers == 2 and p.leaves() > p.radix:
            raise ctx.at("tiers").fail(
                f"{p.leaves()} leaves exceed a spine's {p.radix} ports, so a two-tier Clos cannot join them; "
                "use tiers: 3 or a larger radix")
        if p.tiers == 3 and p.pods() > p.radix:
            raise ctx.at("radix").fail(
                f"{p.pods()} pods exceed a core switch's {p.radix} ports; raise the radix or use fewer chips")
        if p.variant == "rail-optimized" and p.chips % p.server_chips:
            raise ctx.at("chips").fail(
                f"{p.chips} chips do not fill whole servers of server_chips = {p.server_chips}")
    elif family == "torus":
        if not 1 <= len(p.shape) <= 4 or any(k < 2 for k in p.shape):
            raise ctx.at("shape").fail(f"must list 1 to 4 sizes of at least 2, got {list(p.shape)}")
    elif family == "dragonfly":
        needed = p.groups - 1
        have = p.routers_per_group * p.global_links_per_router
        if have < needed:
            raise ctx.at("global_links_per_router").fail(
                f"routers_per_group x global_links_per_router = {have} cannot reach the other "
                f"{needed} groups; raise one of them")


def _parse_named(raw: Any, catalog: dict, cls: type, ctx: _Ctx, what: str) -> Any:
    if isinstance(raw, str):
        if raw not in catalog:
            raise ctx.fail(f"unknown {what} {raw!r}" + _suggest(raw, list(catalog)))
        return catalog[raw]
    return _parse_dataclass(raw, cls, ctx, skip=("sources", "assumptions"))


def _parse_workload(raw: Any, ctx: _Ctx) -> Workload:
    if not isinstance(raw, Mapping):
        raise ctx.fail("must be a mapping with collectives, sizes, layout")
    sizes = raw.get("sizes", ["1MiB", "1GiB"])
    if not isinstance(sizes, list) or not sizes:
        raise ctx.at("sizes").fail("must be a non-empty list of sizes such as 1MiB")
    parsed_sizes = []
    for i, s in enumerate(sizes):
        try:
            parsed_sizes.append(parse_size_bytes(s))
        except ValueError as exc:
            raise ctx.at("sizes").at(i).fail(str(exc)) from None
    rest = {k: v for k, v in raw.items() if k != "sizes"}
    wl = _parse_dataclass(rest, Workload, ctx)
    for i, c in enumerate(wl.collectives):
        _choice(c, COLLECTIVES, ctx.at("collectives").at(i), "collective")
    if wl.layout:
        parse_layout(wl.layout, ctx.at("layout"))
    return dataclasses.replace(wl, sizes=tuple(parsed_sizes))


def parse_layout(text: str, ctx: _Ctx | None = None) -> tuple[tuple[str, int], ...]:
    """`'tp=8,pp=8,dp=128'` -> (('tp', 8), ('pp', 8), ('dp', 128)), innermost first."""
    ctx = ctx or _Ctx("<layout>", "layout")
    out = []
    for part in text.split(","):
        name, _, size = part.strip().partition("=")
        if not name or not size.strip().isdigit() or int(size) < 1:
            raise ctx.fail(f"bad term {part.strip()!r}; write e.g. tp=8,pp=8,dp=128")
        out.append((name.strip(), int(size)))
    return tuple(out)


def _check_physical(inst: Instance, chips: int, ctx: _Ctx) -> None:
    compute = [c for c in inst.cabinets if c.kind == "compute"]
    fam = inst.fabric
    if fam.family == "ub-mesh" and compute and any(c.chips != fam.params.rack_npus for c in compute):
        raise ctx.at("cabinets").fail(
            f"a UB-Mesh rack is one cabinet: compute cabinets must hold rack_npus = {fam.params.rack_npus} chips")
    for i, c in enumerate(inst.cabinets):
        _choice(c.kind, ("compute", "interconnect"), ctx.at("cabinets").at(i).at("kind"), "cabinet kind")
        _choice(c.cooling, ("liquid", "air"), ctx.at("cabinets").at(i).at("cooling"), "cooling")
    if inst.cabinets and not compute:
        raise ctx.at("cabinets").fail("needs a cabinet kind with kind: compute")
    held = sum(c.count * c.chips for c in compute)
    if compute and held != chips:
        raise ctx.at("cabinets").fail(
            f"compute cabinets hold {held} chips (sum of count x chips) but the fabric has {chips}; "
            "make them multiply out")
    if inst.floor:
        for i, z in enumerate(inst.floor.cooling_zones):
            zctx = ctx.at("floor").at("cooling_zones").at(i)
            _choice(z.kind, ("liquid", "air"), zctx.at("kind"), "cooling kind")
            for r in z.rows:
                if not 0 <= r < inst.floor.rows:
                    raise zctx.at("rows").fail(f"row {r} is outside the floor's rows 0..{inst.floor.rows - 1}")
    for i, m in enumerate(inst.media):
        _choice(m.kind, MEDIUM_KINDS, ctx.at("media").at(i).at("kind"), "medium kind")


def instance_from_mapping(raw: Any, file: str) -> Instance:
    """Validate a parsed YAML document and return the Instance; raises InstanceError."""
    ctx = _Ctx(file)
    if not isinstance(raw, Mapping):
        raise ctx.fail("the file must hold a YAML mapping with at least `name` and `fabric`")
    known = {f.name for f in dataclasses.fields(Instance)} - {"source_file"}
    for key in raw:
        if key not in known:
            raise ctx.at(str(key)).fail("unknown section" + _suggest(str(key), sorted(known)))
    for key in ("name", "fabric"):
        if key not in raw:
            raise ctx.at(key).fail("is required")
    name = _scalar(raw["name"], str, ctx.at("name"), 0)
    fabric = _parse_fabric(raw["fabric"], ctx.at("fabric"))
    chip = _parse_named(raw["chip"], CHIPS, ChipType, ctx.at("chip"), "chip") if "chip" in raw else None
    media_raw = raw.get("media", [])
    if not isinstance(media_raw, list):
        raise ctx.at("media").fail("must be a list of media names or inline media")
    media = tuple(_parse_named(m, MEDIA, MediumType, ctx.at("media").at(i), "medium")
                  for i, m in enumerate(media_raw))
    inst = Instance(
        name=name,
        fabric=fabric,
        description=_scalar(raw.get("description", ""), str, ctx.at("description"), 0),
        chip=chip,
        cabinets=_parse(raw.get("cabinets", []), tuple[CabinetKind, ...], ctx.at("cabinets")),
        floor=_parse(raw["floor"], Floor, ctx.at("floor")) if "floor" in raw else None,
        media=media,
        workload=_parse_workload(raw["workload"], ctx.at("workload")) if "workload" in raw else Workload(),
        source_file=file,
        assumptions=_parse(raw.get("assumptions", []), tuple[str, ...], ctx.at("assumptions")),
    )
    _check_physical(inst, fabric_chip_count(fabric), ctx)
    return inst


def fabric_chip_count(fabric: FabricSpec) -> int:
    """Chips the fabric has, from its parameters alone (no graph built)."""
    p = fabric.params
    if fabric.family == "dims":
        return math.prod(d.size for d in p.dims)
    if fabric.family == "ub-mesh":
        return p.chips
    if fabric.family == "clos":
        return p.chips
    if fabric.family == "torus":
        return math.prod(p.shape)
    return p.groups * p.routers_per_group * p.chips_per_router

