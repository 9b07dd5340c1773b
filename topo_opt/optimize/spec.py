"""Search spec: the fixed part every candidate shares, budget caps, the space to search, and how.

A spec is a YAML mapping (see README `optimize`):

    name, description
    chips                  the chip count every candidate has
    fixed                  instance sections shared by every candidate: chip, floor, media, workload
    cabinets               cabinet templates by kind (`compute`, `interconnect`): the fields of an
                           instance's cabinet kind without `kind` and `count`, which each candidate
                           derives (compute `chips` is per family; see families.py)
    caps                   budget caps: network_cost, network_power, total_power, comm_time with a
                           unit (`300 MUSD`, `9.5 MW`, `12 ms`); optical_modules, floor_slots as counts
    space                  family -> parameter -> a value, a list of values or {from, to, step};
                           omitted: every family at its default ranges for the chip count
    search                 objectives (of OBJECTIVES, for the front), recommend_within (fraction),
                           budget (evaluations), batch, population, finalists, finalist_time_limit_s

Every error names the dotted field (`space.clos.radix`) in one line, as instance errors do.
"""

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from topo_opt.catalog import CHIPS
from topo_opt.errors import InstanceError
from topo_opt.families import FAMILIES
from topo_opt.optimize.families import DEFAULT_SPACES

# objective -> (unit, what it is); every objective is minimised.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "network_cost_usd": ("USD", "network cost: cables, optics and switches (provisioning BOM)"),
    "network_power_kw": ("kW", "network power: cables, optics and switches"),
    "total_power_kw": ("kW", "compute cabinets + interconnect overhead + network power"),
    "comm_time_s": ("s", "workload communication time: sum over its collectives and sizes of the scorer's time"),
    "optical_modules": ("count", "optical modules (2 per optical cable)"),
    "floor_slots": ("count", "floor slots used: one per cabinet"),
}
DEFAULT_FRONT = ("network_cost_usd", "comm_time_s", "total_power_kw")

# cap name -> (objective, unit factors to the objective's unit); counts take plain integers.
_COST = {"USD": 1.0, "kUSD": 1e3, "MUSD": 1e6, "BUSD": 1e9}
_POWER = {"W": 1e-3, "kW": 1.0, "MW": 1e3}
_TIME = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
CAPS: dict[str, tuple[str, dict[str, float] | None]] = {
    "network_cost": ("network_cost_usd", _COST),
    "network_power": ("network_power_kw", _POWER),
    "total_power": ("total_power_kw", _POWER),
    "comm_time": ("comm_time_s", _TIME),
    "optical_modules": ("optical_modules", None),
    "floor_slots": ("floor_slots", None),
}
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]+)\s*$")
FIXED_SECTIONS = ("chip", "floor", "media", "workload")
CABINET_KINDS = ("compute", "interconnect")
TOP_KEYS = ("name", "description", "chips", "fixed", "cabinets", "caps", "space", "search")


@dataclass(frozen=True)
class Cap:
    name: str  # as written in the spec, e.g. total_power
    objective: str  # the objective it limits, e.g. total_power_kw
    limit: float  # in the objective's unit
    text: str  # as written, for messages


@dataclass(frozen=True)
class SearchOptions:
    objectives: tuple[str, ...] = DEFAULT_FRONT
    recommend_within: float = 0.05
    budget: int = 200
    batch: int = 8
    population: int = 24
    finalists: int = 4
    finalist_time_limit_s: float = 20.0


@dataclass(frozen=True)
class SearchSpec:
    name: str
    description: str
    chips: int
    fixed: dict  # raw instance sections, validated per candidate by instance_from_mapping
    cabinets: dict  # kind -> raw template
    caps: tuple[Cap, ...]
    space: tuple[tuple[str, tuple[tuple[str, tuple], ...]], ...]  # family -> ((param, values), ...)
    search: SearchOptions
    source_file: str


def _fail(file: str, path: str, message: str) -> InstanceError:
    return InstanceError(file, path, message)


def _mapping(value: Any, file: str, path: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise _fail(file, path, f"must be a mapping, got {value!r}")
    return value


def _known(value: Mapping, allowed: tuple[str, ...], file: str, path: str, what: str = "field") -> None:
    for key in value:
        if key not in allowed:
            raise _fail(file, f"{path}.{key}" if path else str(key),
                        f"unknown {what} (allowed: {', '.join(allowed)})")


def _positive_int(value: Any, file: str, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(file, path, f"must be a positive whole number, got {value!r}")
    return value


def parse_cap(name: str, value: Any, file: str) -> Cap:
    path = f"caps.{name}"
    if name not in CAPS:
        raise _fail(file, path, f"unknown cap (allowed: {', '.join(CAPS)})")
    objective, units = CAPS[name]
    if units is None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise _fail(file, path, f"must be a count (a whole number), got {value!r}")
        return Cap(name, objective, float(value), str(value))
    match = _QUANTITY.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise _fail(file, path, f"must be a number with a unit ({', '.join(units)}), e.g. '100 {list(units)[-1]}', "
                                f"got {value!r}")
    unit = match.group(2)
    if unit not in units:
        raise _fail(file, path, f"unit {unit!r} is not one of {', '.join(units)} for {objective}")
    limit = float(match.group(1)) * units[unit]
    if not math.isfinite(limit) or limit <= 0:
        raise _fail(file, path, f"must be positive and finite, got {value!r}")
    return Cap(name, objective, limit, str(value))


def expand_values(value: Any, file: str, path: str) -> tuple:
    """A value, a list of values or an inclusive range {from, to, step}, as a tuple of values."""
    if isinstance(value, Mapping):
        _known(value, ("from", "to", "step"), file, path)
        for key in ("from", "to"):
            if key not in value:
                raise _fail(file, f"{path}.{key}", "is required in a range")
        lo, hi, step = value["from"], value["to"], value.get("step", 1)
        for key, v in (("from", lo), ("to", hi), ("step", step)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise _fail(file, f"{path}.{key}", f"must be a finite number, got {v!r}")
        if step <= 0:
            raise _fail(file, f"{path}.step", f"must be positive, got {step!r}")
        if hi < lo:
            raise _fail(file, path, f"empty range: to = {hi!r} is below from = {lo!r}")
        count = int(math.floor((hi - lo) / step + 1e-9)) + 1
        whole = all(isinstance(v, int) for v in (lo, hi, step))
        return tuple((lo + i * step) if whole else round(lo + i * step, 12) for i in range(count))
    if isinstance(value, list):
        if not value:
            raise _fail(file, path, "empty range: give at least one value")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return (value,)


def _parse_space(raw: Any, chips: int, chip: Any, file: str) -> tuple:
    if raw is None:
        return tuple((family, tuple(fam.default_space(chips, chip).items()))
                     for family, fam in DEFAULT_SPACES.items())
    raw = _mapping(raw, file, "space")
    if not raw:
        raise _fail(file, "space", "empty: name at least one family, or omit `space` to search them all")
    out = []
    for family, params in raw.items():
        path = f"space.{family}"
        if family not in DEFAULT_SPACES:
            raise _fail(file, path, f"unknown or unsearchable family (searchable: {', '.join(DEFAULT_SPACES)})")
        fam = DEFAULT_SPACES[family]
        params = {} if params is None else _mapping(params, file, path)
        fields = tuple(f.name for f in dataclasses.fields(FAMILIES[family].params))
        for key in params:
            if key in fam.derived:
                raise _fail(file, f"{path}.{key}", f"is derived from `chips: {chips}`; remove it from the space")
            if key not in fields:
                raise _fail(file, f"{path}.{key}", f"unknown parameter of {family} "
                                                   f"(allowed: {', '.join(f for f in fields if f not in fam.derived)})")
        explicit = {k: expand_values(v, file, f"{path}.{k}") for k, v in params.items()}
        # a family named without parameters is searched at its default ranges
        out.append((family, tuple((explicit or fam.default_space(chips, chip)).items())))
    return tuple(out)


def _parse_search(raw: Any, file: str) -> SearchOptions:
    raw = _mapping(raw, file, "search") if raw is not None else {}
    fields = tuple(f.name for f in dataclasses.fields(SearchOptions))
    _known(raw, fields, file, "search")
    kwargs: dict[str, Any] = {}
    if "objectives" in raw:
        objs = raw["objectives"]
        if not isinstance(objs, list) or not objs:
            raise _fail(file, "search.objectives", f"must be a non-empty list of {', '.join(OBJECTIVES)}")
        for i, o in enumerate(objs):
            if o not in OBJECTIVES:
                raise _fail(file, f"search.objectives[{i}]",
                            f"unknown objective {o!r} (one of {', '.join(OBJECTIVES)})")
        if "comm_time_s" not in objs or "network_cost_usd" not in objs:
            raise _fail(file, "search.objectives", "must include network_cost_usd and comm_time_s "
                                                   "(the recommendation trades them)")
        kwargs["objectives"] = tuple(objs)
    for key in ("budget", "batch", "population", "finalists"):
        if key in raw:
            kwargs[key] = _positive_int(raw[key], file, f"search.{key}")
    for key, lo, hi in (("recommend_within", 0.0, 1.0), ("finalist_time_limit_s", 1e-9, 86400.0)):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
                raise _fail(file, f"search.{key}", f"must be a number in [{lo:g}, {hi:g}], got {v!r}")
            kwargs[key] = float(v)
    if kwargs.get("population", 24) < 2:
        raise _fail(file, "search.population", "must be at least 2")
    return SearchOptions(**kwargs)


def spec_from_mapping(raw: Any, file: str) -> SearchSpec:
    """Validate a parsed search spec; raises InstanceError naming the field. The fixed sections and
    cabinet templates are validated per candidate (instance_from_mapping); see candidates.py."""
    raw = _mapping(raw, file, "")
    _known(raw, TOP_KEYS, file, "", "section")
    for key in ("name", "chips", "fixed"):
        if key not in raw:
            raise _fail(file, key, "is required")
    name = raw["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise _fail(file, "name", f"must be a name of letters, digits, '.', '_' or '-', got {name!r}")
    chips = _positive_int(raw["chips"], file, "chips")
    fixed = dict(_mapping(raw["fixed"], file, "fixed"))
    _known(fixed, FIXED_SECTIONS, file, "fixed", "section")
    for key in ("chip", "floor", "media"):
        if key not in fixed:
            raise _fail(file, f"fixed.{key}", "is required (candidates are placed and provisioned)")
    cabinets = dict(_mapping(raw.get("cabinets"), file, "cabinets")) if "cabinets" in raw else {}
    _known(cabinets, CABINET_KINDS, file, "cabinets", "cabinet kind")
    if "compute" not in cabinets:
        raise _fail(file, "cabinets.compute", "is required")
    for kind, tpl in cabinets.items():
        tpl = _mapping(tpl, file, f"cabinets.{kind}")
        for key in ("kind", "count"):
            if key in tpl:
                raise _fail(file, f"cabinets.{kind}.{key}", "is derived per candidate; remove it")
    caps_raw = _mapping(raw.get("caps", {}), file, "caps")
    caps = tuple(parse_cap(str(k), v, file) for k, v in caps_raw.items())
    chip = CHIPS.get(fixed["chip"]) if isinstance(fixed["chip"], str) else None
    space = _parse_space(raw.get("space"), chips, chip, file)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _fail(file, "description", "must be a string")
    return SearchSpec(name, description, chips, fixed, {k: dict(v) for k, v in cabinets.items()}, caps, space,
                      _parse_search(raw.get("search"), file), file)
