"""Instance model: frozen dataclasses and their validation.

An instance is a YAML mapping. Only `name` and `fabric` are required; the physical sections
(`chip`, `cabinets`, `floor`, `media`) are needed by `place`/`provision`/`solve`, and `workload`
by provisioning. Every error names the file and the dotted path of the field (`fabric.dims[0].size`)
and says how to fix it, in one line.

Parsing is driven by the dataclasses themselves: each field's annotation gives its type, its
default makes it optional, and `metadata={"min": 0}` allows zero where a size may be zero.
"""

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from topo_opt.catalog import CHIPS, MEDIA, MEDIUM_KINDS, ChipType, MediumType
from topo_opt.errors import InstanceError
from topo_opt.families import FAMILIES, Family
from topo_opt.families.base import choice as _choice
from topo_opt.families.base import suggest as _suggest
from topo_opt.families.base import zero_ok as _zero_ok

# The families' params dataclasses, importable from here as instance types.
from topo_opt.families.clos import ClosParams  # noqa: F401
from topo_opt.families.dims import DimsParams, DimSpec  # noqa: F401
from topo_opt.families.dragonfly import DragonflyParams  # noqa: F401
from topo_opt.families.torus import TorusParams  # noqa: F401
from topo_opt.families.ub_mesh import UbMeshParams  # noqa: F401
from topo_opt.units import parse_size_bytes

COLLECTIVES = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "broadcast")


# --- fabric ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FabricSpec:
    family: str
    params: Any  # the family's params dataclass (`topo_opt.families`)

    @property
    def family_def(self) -> Family:
        return FAMILIES[self.family]


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
    rows: int = field(metadata={"max": 10_000})
    slots_per_row: int = field(metadata={"max": 10_000})
    slot_width_m: float
    row_pitch_m: float
    row_power_kw: float
    cable_slack_m: float = _zero_ok(default=1.0)
    cooling_zones: tuple[CoolingZone, ...] = ()


@dataclass(frozen=True)
class Hall:
    """The halls of a SuperCluster (a fabric of SuperPoDs, `Family.cluster`): one hall per
    SuperPoD, as `floor` describes it, plus one DCN hall, on a grid of `rows` x `cols` cells
    whose centres are `pitch_m` apart (a ~1,000 m2 hall and its aisle: about 40 m). A DCN cable
    runs Manhattan distance x pitch_m + `cable_slack_m` (risers, the trays inside both halls).
    Each hall is fed `power_kw` and cooled for `cooling_kw`; the DCN hall gets `dcn_power_kw` and
    `dcn_cooling_kw` when given (else the same). `dcn_cabinet_switches`: DCN switch boxes per
    cabinet in the DCN hall."""

    rows: int = field(metadata={"max": 100})  # placement enumerates cell pairs: 10^8 at most
    cols: int = field(metadata={"max": 100})
    pitch_m: float = field(metadata={"max": 10_000})
    power_kw: float
    cooling_kw: float
    dcn_cabinet_switches: int = field(default=4, metadata={"max": 1000})
    cable_slack_m: float = field(default=20.0, metadata={"min": 0, "max": 10_000})
    dcn_power_kw: float | None = None
    dcn_cooling_kw: float | None = None

    @property
    def dcn_power_cap_kw(self) -> float:
        return self.power_kw if self.dcn_power_kw is None else self.dcn_power_kw

    @property
    def dcn_cooling_cap_kw(self) -> float:
        return self.cooling_kw if self.dcn_cooling_kw is None else self.dcn_cooling_kw


@dataclass(frozen=True)
class AxisRole:
    collective: str  # a reduction, all-to-all, or p2p
    buffer: float  # bytes per chip per step relative to the TP buffer


AXIS_ROLES: dict[str, AxisRole] = {
    "tp": AxisRole("all-reduce", 1.0),
    "sp": AxisRole("all-gather", 0.5),  # assumed: sequence-parallel activations gathered
    "cp": AxisRole("p2p", 0.25),  # assumed: ring attention passes KV blocks to the neighbour
    "ep": AxisRole("all-to-all", 0.5),  # assumed: MoE token dispatch and combine
    "pp": AxisRole("p2p", 0.042),
    "dp": AxisRole("all-reduce", 0.189),
}


@dataclass(frozen=True)
class Workload:
    collectives: tuple[str, ...] = ("all-reduce", "all-to-all")
    sizes: tuple[int, ...] = (2**20, 2**30)
    layout: str = ""  # e.g. "tp=8,pp=8,dp=128"
    target_throughput: float = field(default=1.0, metadata={"max": 1000})  # max-concurrent-flow target
    # absolute targets: (axis, GB/s per chip that axis sends); when given, they replace
    # target_throughput (`traffic.workload_target`)
    target_GBps: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Reliability:
    """Repair and recovery times for `resilience` (component failure rates live in the catalog).

    A failure the design absorbs by rerouting stalls the job for `detection_s`; one a spare chip
    absorbs stops it for `detection_s + migration_s` (restart on the spare from a checkpoint);
    one it cannot absorb stops it for `detection_s + mttr_h`. `links_stop_job` treats every link
    and switch failure as job-stopping (collective libraries that do not reroute, as in [R1]).
    `chips_per_board` sizes boards where the fabric defines none (servers of a Clos).
    """

    mttr_h: float = 1.2  # assumed: the repair time implied by [U1]'s MTBF / availability pairs
    detection_s: float = _zero_ok(default=60.0)  # assumed
    migration_s: float = _zero_ok(default=600.0)  # assumed: checkpoint reload on the spare
    links_stop_job: bool = False
    chips_per_board: int = 8


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
    reliability: Reliability = Reliability()
    hall: Hall | None = None

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


# Documented ranges (README, "Instance format"): counts are whole numbers in 1..MAX_COUNT (0.. where a
# field may be zero), other numbers finite in [MIN_POSITIVE, MAX_NUMBER] (0.. where they may be zero);
# a field's metadata `min` / `max` narrows or widens its range.
MAX_COUNT = 10**6
MAX_NUMBER = 1e9
MIN_POSITIVE = 1e-6


def _range(tp: type, min_value: float | None, max_value: float | None) -> tuple[float, float]:
    lo = (1 if tp is int else MIN_POSITIVE) if min_value is None else min_value
    hi = (MAX_COUNT if tp is int else MAX_NUMBER) if max_value is None else max_value
    return lo, hi


def _scalar(value: Any, tp: type, ctx: _Ctx, min_value: float | None = None, max_value: float | None = None) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.fail(f"must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ctx.fail(f"must be a string, got {value!r}")
        return str(value)
    lo, hi = _range(tp, min_value, max_value)
    what = ("a whole number" if tp is int else "a finite number") + f" between {_shown(lo)} and {_shown(hi)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.fail(f"must be {what}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ctx.fail(f"must be {what}, got {value!r}")
    if not lo <= value <= hi or (tp is int and value != int(value)):
        raise ctx.fail(f"must be {what}, got {_shown(value)}")
    return tp(value)


def _shown(value: float) -> str:
    """A number for a message (huge YAML integers such as 10**400 do not convert to float)."""
    if isinstance(value, int):
        text = f"{value:,}"
        return text if len(text) <= 24 else f"{str(value)[:8]}... ({len(str(value))} digits)"
    return f"{value:g}"


def _parse(value: Any, tp: Any, ctx: _Ctx, min_value: float | None = None, max_value: float | None = None) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(value, tp, ctx)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ctx.fail(f"must be a list, got {value!r}")
        if len(value) > MAX_COUNT:
            raise ctx.fail(f"has {len(value):,} items, more than {MAX_COUNT:,}")
        item_tp = typing.get_args(tp)[0]
        return tuple(_parse(v, item_tp, ctx.at(i), min_value, max_value) for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)][0]
        return None if value is None else _parse(value, inner, ctx, min_value, max_value)
    return _scalar(value, tp, ctx, min_value, max_value)


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
        kwargs[name] = _parse(value[name], hints[name], ctx.at(name), f.metadata.get("min"), f.metadata.get("max"))
    return cls(**kwargs)


# --- sections -----------------------------------------------------------------------------------

def _parse_fabric(raw: Any, ctx: _Ctx) -> FabricSpec:
    if not isinstance(raw, Mapping):
        raise ctx.fail("must be a mapping with a `family` and its parameters")
    if "family" not in raw:
        raise ctx.at("family").fail(f"is required (one of {', '.join(FAMILIES)})")
    family = FAMILIES[_choice(str(raw["family"]), tuple(FAMILIES), ctx.at("family"), "fabric family")]
    rest = {k: v for k, v in raw.items() if k != "family"}
    params = (family.parse(rest, ctx, _parse_fabric, _parse_dataclass) if family.parse
              else _parse_dataclass(rest, family.params, ctx))
    family.check(params, ctx)
    return FabricSpec(family.name, params)


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
    rest = {k: v for k, v in raw.items() if k not in ("sizes", "target_GBps")}
    wl = _parse_dataclass(rest, Workload, ctx)
    for i, c in enumerate(wl.collectives):
        _choice(c, COLLECTIVES, ctx.at("collectives").at(i), "collective")
    terms = parse_layout(wl.layout, ctx.at("layout")) if wl.layout else ()
    absolute = _parse_target_GBps(raw["target_GBps"], terms, ctx.at("target_GBps")) if "target_GBps" in raw else ()
    return dataclasses.replace(wl, sizes=tuple(parsed_sizes), target_GBps=absolute)


def _parse_target_GBps(raw: Any, terms: tuple[tuple[str, int], ...], ctx: _Ctx) -> tuple[tuple[str, float], ...]:
    """{axis: GB/s per chip}: axes of the layout that span more than one chip ("all" without a layout)."""
    axes = [name for name, size in terms if size > 1] if terms else ["all"]
    if not isinstance(raw, Mapping) or not raw:
        raise ctx.fail(f"must be a non-empty mapping of axis to GB/s per chip, e.g. {{{axes[0]}: 400}}")
    out = []
    for name, value in raw.items():
        if name not in axes:
            raise ctx.at(str(name)).fail(f"is not an axis of the layout that spans chips (axes: {', '.join(axes)})")
        out.append((str(name), _scalar(value, float, ctx.at(str(name)))))
    return tuple(out)


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
    """Cabinets hold the fabric's chips, or one member's where the fabric is a cluster of members."""
    cluster = inst.fabric.family_def.cluster(inst.fabric.params)
    chips = cluster.member_chips if cluster else chips
    compute = [c for c in inst.cabinets if c.kind == "compute"]
    fixed = inst.fabric.family_def.chips_per_cabinet(inst.fabric.params)
    if fixed and compute and any(c.chips != fixed for c in compute):
        raise ctx.at("cabinets").fail(
            f"the {inst.fabric.family} fabric fixes a compute cabinet's contents "
            f"({inst.fabric.family_def.packing}): compute cabinets must hold {fixed} chips")
    for i, c in enumerate(inst.cabinets):
        _choice(c.kind, ("compute", "interconnect"), ctx.at("cabinets").at(i).at("kind"), "cabinet kind")
        _choice(c.cooling, ("liquid", "air"), ctx.at("cabinets").at(i).at("cooling"), "cooling")
    if inst.cabinets and not compute:
        raise ctx.at("cabinets").fail("needs a cabinet kind with kind: compute")
    held = sum(c.count * c.chips for c in compute)
    if compute and held != chips:
        one = " in one SuperPoD (the cabinets describe one SuperPoD's hall)" if cluster else ""
        raise ctx.at("cabinets").fail(
            f"compute cabinets hold {held} chips (sum of count x chips) but the fabric has {chips}{one}; "
            "make them multiply out")
    _check_hall(inst.hall, cluster, ctx.at("hall"))
    if inst.floor:
        for i, z in enumerate(inst.floor.cooling_zones):
            zctx = ctx.at("floor").at("cooling_zones").at(i)
            _choice(z.kind, ("liquid", "air"), zctx.at("kind"), "cooling kind")
            for r in z.rows:
                if not 0 <= r < inst.floor.rows:
                    raise zctx.at("rows").fail(f"row {r} is outside the floor's rows 0..{inst.floor.rows - 1}")
    for i, m in enumerate(inst.media):
        _choice(m.kind, MEDIUM_KINDS, ctx.at("media").at(i).at("kind"), "medium kind")


def _check_hall(hall: Hall | None, cluster: Any, ctx: _Ctx) -> None:
    """A hall grid belongs to a cluster fabric, and holds its members' halls plus the DCN hall."""
    if hall is None:
        return
    if cluster is None:
        raise ctx.fail("is only for a fabric of SuperPoDs (family supercluster); remove it")
    if hall.rows * hall.cols < cluster.copies + 1:
        raise ctx.at("rows").fail(
            f"{hall.rows} x {hall.cols} halls cannot hold {cluster.copies} SuperPoD halls and the DCN hall; "
            f"make rows x cols at least {cluster.copies + 1}")


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
    name = _scalar(raw["name"], str, ctx.at("name"))
    fabric = _parse_fabric(raw["fabric"], ctx.at("fabric"))
    _check_graph_size(fabric, ctx.at("fabric"))
    chip = _parse_named(raw["chip"], CHIPS, ChipType, ctx.at("chip"), "chip") if "chip" in raw else None
    media_raw = raw.get("media", [])
    if not isinstance(media_raw, list):
        raise ctx.at("media").fail("must be a list of media names or inline media")
    media = tuple(_parse_named(m, MEDIA, MediumType, ctx.at("media").at(i), "medium")
                  for i, m in enumerate(media_raw))
    inst = Instance(
        name=name,
        fabric=fabric,
        description=_scalar(raw.get("description", ""), str, ctx.at("description")),
        chip=chip,
        cabinets=_parse(raw.get("cabinets", []), tuple[CabinetKind, ...], ctx.at("cabinets")),
        floor=_parse(raw["floor"], Floor, ctx.at("floor")) if "floor" in raw else None,
        media=media,
        workload=_parse_workload(raw["workload"], ctx.at("workload")) if "workload" in raw else Workload(),
        source_file=file,
        assumptions=_parse(raw.get("assumptions", []), tuple[str, ...], ctx.at("assumptions")),
        reliability=_parse(raw.get("reliability", {}), Reliability, ctx.at("reliability")),
        hall=_parse(raw["hall"], Hall, ctx.at("hall")) if "hall" in raw else None,
    )
    _check_physical(inst, fabric_chip_count(fabric), ctx)
    if inst.floor:
        _check_floor_size(inst.floor, ctx.at("floor"))
    return inst


def fabric_chip_count(fabric: FabricSpec) -> int:
    """Chips the fabric has, from its parameters alone (no graph built)."""
    return fabric.family_def.chips(fabric.params)


GRAPH_BYTES_PER_NODE = 500  # networkx node with its attribute dict, measured ~400 B on Atlas 960
GRAPH_BYTES_PER_LINK = 500
MAX_GRAPH_BYTES = 8 * 2**30  # a fixed limit, so that whether a file is valid does not depend on the machine


# Placement keeps slot-to-slot tables (length, medium tier and their temporaries): ~32 B per slot pair.
PLACEMENT_BYTES_PER_SLOT_PAIR = 32


def _check_floor_size(floor: Floor, ctx: _Ctx) -> None:
    slots = floor.rows * floor.slots_per_row
    size = slots * slots * PLACEMENT_BYTES_PER_SLOT_PAIR
    if size > MAX_GRAPH_BYTES:
        raise ctx.fail(
            f"{floor.rows:,} rows x {floor.slots_per_row:,} slots = {slots:,} slots: placement's slot-to-slot "
            f"tables would need about {size / 2**30:,.0f} GiB, more than the {MAX_GRAPH_BYTES / 2**30:g} GiB limit "
            f"(at most {int((MAX_GRAPH_BYTES / PLACEMENT_BYTES_PER_SLOT_PAIR) ** 0.5):,} slots)")


def graph_size_estimate(fabric: FabricSpec) -> tuple[int, float, float]:
    """(chips, links, bytes) the fabric graph would take, from the parameters alone."""
    chips = fabric_chip_count(fabric)
    links = chips * fabric.family_def.links_per_chip(fabric.params)
    return chips, links, chips * GRAPH_BYTES_PER_NODE + links * GRAPH_BYTES_PER_LINK


def _check_graph_size(fabric: FabricSpec, ctx: _Ctx) -> None:
    if not fabric.family_def.lazy_graph:
        _graph_size_ok(fabric, ctx)


def check_graph_size(fabric: FabricSpec, file: str, field: str = "fabric") -> None:
    """InstanceError (file, field) when the fabric's per-chip graph would be over MAX_GRAPH_BYTES."""
    _graph_size_ok(fabric, _Ctx(file, field))


def _graph_size_ok(fabric: FabricSpec, ctx: _Ctx) -> None:
    chips, links, size = graph_size_estimate(fabric)
    if size > MAX_GRAPH_BYTES:
        raise ctx.fail(
            f"{chips:,} chips and about {links:,.0f} links would need about {size / 2**30:,.1f} GiB for the "
            f"graph alone, more than the {MAX_GRAPH_BYTES / 2**30:g} GiB limit; use a smaller fabric")
