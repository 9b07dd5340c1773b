"""Candidates: one point of the space (family + parameter values) made into an instance mapping.

A candidate's id is `FAMILY-K` with K its index in the family's grid (itertools.product order over
the parameters as the spec lists them, the last fastest), so an id names the same design whichever
method (exhaustive or NSGA-II), engine or run proposed it. Its instance is the spec's fixed sections,
its fabric section (families.py fills the derived parameters) and cabinets from the templates:
compute count = chips / chips per compute cabinet; interconnect cabinets are sized by screening
from the switches of the provisioned fabric (`with_interconnect`).
"""

import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from topo_opt.errors import InstanceError
from topo_opt.instance import instance_from_mapping
from topo_opt.optimize.families import DEFAULT_SPACES
from topo_opt.optimize.spec import SearchSpec


@dataclass(frozen=True)
class Candidate:
    id: str
    family: str
    params: dict  # the searched values
    mapping: dict | None  # the instance mapping; None when the parameters make no valid instance
    invalid: str = ""  # why not, with the field (`fabric.tiers: ...`)
    field: str = ""


def plain(value: Any) -> Any:
    """YAML/JSON-ready: tuples become lists, recursively."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def mapping_sha256(mapping: dict) -> str:
    return hashlib.sha256(json.dumps(mapping, sort_keys=True).encode("utf-8")).hexdigest()


def family_grid(spec: SearchSpec, family: str) -> tuple[tuple[str, tuple], ...]:
    return dict(spec.space)[family]


def family_size(spec: SearchSpec, family: str) -> int:
    return math.prod(len(v) for _, v in family_grid(spec, family))


def space_size(spec: SearchSpec) -> int:
    return sum(family_size(spec, f) for f, _ in spec.space)


def candidate_at(spec: SearchSpec, family: str, choice: tuple[int, ...]) -> Candidate:
    """The candidate of `family` with value index choice[i] for its i-th parameter."""
    grid = family_grid(spec, family)
    k = 0
    for (_, values), c in zip(grid, choice, strict=True):
        k = k * len(values) + c
    params = {name: plain(values[c]) for (name, values), c in zip(grid, choice, strict=True)}
    cid = f"{family}-{k:05d}"
    try:
        mapping = instance_mapping(spec, cid, family, params)
        instance_from_mapping(with_interconnect(mapping, spec.cabinets.get("interconnect"), 1), cid)
    except ValueError as exc:
        return Candidate(cid, family, params, None, str(exc), "fabric")
    except InstanceError as exc:
        return Candidate(cid, family, params, None, f"{exc.field}: {exc.message}", exc.field)
    return Candidate(cid, family, params, mapping)


def family_candidates(spec: SearchSpec, family: str) -> Iterator[Candidate]:
    grid = family_grid(spec, family)
    for choice in itertools.product(*(range(len(v)) for _, v in grid)):
        yield candidate_at(spec, family, choice)


def all_candidates(spec: SearchSpec) -> Iterator[Candidate]:
    for family, _ in spec.space:
        yield from family_candidates(spec, family)


def check_space(spec: SearchSpec) -> None:
    """Every family must yield at least one valid candidate; else InstanceError at the spec field the
    first candidate fails on (`space.clos.tiers`), with its reason."""
    for family, _ in spec.space:
        first = None
        for cand in family_candidates(spec, family):
            if cand.mapping is not None:
                break
            first = first or cand
        else:
            if first is None:
                raise InstanceError(spec.source_file, f"space.{family}", "empty range: no candidate")
            leaf = first.field.split(".", 1)[1] if first.field.startswith("fabric.") else ""
            path = f"space.{family}.{leaf}" if leaf else f"space.{family}"
            raise InstanceError(spec.source_file, path, f"no value yields a valid candidate; "
                                                        f"e.g. {first.id} {first.params}: {first.invalid}")


def instance_mapping(spec: SearchSpec, cid: str, family: str, params: dict) -> dict:
    """The candidate's instance mapping, compute cabinets only (screening adds the interconnect ones)."""
    fam = DEFAULT_SPACES[family]
    fabric = fam.fabric(params, spec.chips)
    compute_tpl = spec.cabinets["compute"]
    per = fam.compute_chips(fabric, compute_tpl.get("chips"))
    cabinets = [{**compute_tpl, "kind": "compute", "count": spec.chips // per if spec.chips % per == 0
                 else spec.chips / per, "chips": per}]
    return plain({
        "name": f"{spec.name}-{cid}",
        "description": f"{spec.name} candidate {cid}: {family} {params}",
        **spec.fixed,
        "fabric": {"family": family, **fabric},
        "cabinets": cabinets,
        "assumptions": [f"generated by `topo-opt optimize` from {spec.name}: interconnect cabinets sized to "
                        "the provisioned switches at the template's switches per cabinet"],
    })


def with_interconnect(mapping: dict, template: dict | None, count: int) -> dict:
    """The mapping with `count` interconnect cabinets made from `template` (none when 0 or no template)."""
    compute = [c for c in mapping["cabinets"] if c["kind"] != "interconnect"]
    if template is None or count == 0:
        return {**mapping, "cabinets": compute}
    return {**mapping, "cabinets": [*compute, {**plain(template), "kind": "interconnect", "count": count}]}
