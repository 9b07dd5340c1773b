"""Per-family search knowledge, one entry per family in DEFAULT_SPACES (no family branches elsewhere):

- `default_space(chips, chip)`: parameter -> candidate values for that chip count, used when a spec
  gives no space (or names a family with no parameters);
- `derived`: parameters the chip count fixes (a spec may not search them);
- `fabric(params, chips)`: the instance's `fabric` section (without `family`), derived parameters
  filled in; raises ValueError when the parameters cannot make `chips` chips;
- `compute_chips(fabric, template_chips)`: chips per compute cabinet (a UB-Mesh rack is one cabinet
  of rack_npus chips; the other families take the spec's `cabinets.compute.chips`).

Interconnect cabinets are derived from the switches the provisioned fabric needs (candidates.py).
Default ranges spend the chip's whole interconnect bandwidth (`interconnect_GBps`) or fractions of it.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from topo_opt.catalog import ChipType
from topo_opt.instance import UbMeshParams

_FALLBACK_GBPS = 400.0  # per chip when the spec's chip is inline (no catalog figures): assumed


@dataclass(frozen=True)
class FamilySpace:
    default_space: Callable[[int, ChipType | None], dict[str, tuple]]
    derived: tuple[str, ...]
    fabric: Callable[[dict, int], dict]
    compute_chips: Callable[[dict, int | None], int]


def _chip_GBps(chip: ChipType | None) -> float:
    return chip.interconnect_GBps if chip else _FALLBACK_GBPS


def _whole(chips: int, per: int, what: str) -> int:
    if per <= 0 or chips % per:
        raise ValueError(f"{chips} chips are not a whole number of {what} of {per}")
    return chips // per


def _template_chips(_: dict, template_chips: int | None) -> int:
    if not template_chips:
        raise ValueError("cabinets.compute.chips is required for this family (chips per compute cabinet)")
    return template_chips


# --- ub-mesh -------------------------------------------------------------------------------------

_UB = UbMeshParams()


def _ub_space(chips: int, chip: ChipType | None) -> dict[str, tuple]:
    """Pods of 2 x 4 or 4 x 4 racks of 64; the x72 lanes split over X, Y, inter-rack and uplinks."""
    return {"pod_rows": (2, 4), "pod_cols": (4,), "lanes_y": (8, 16, 24),
            "lanes_inter_rack": (4, 8, 16), "lanes_uplink": (2, 4)}


def _ub_fabric(params: dict, chips: int) -> dict:
    rack = params.get("board_npus", _UB.board_npus) * params.get("rack_boards", _UB.rack_boards)
    pod = rack * params.get("pod_rows", _UB.pod_rows) * params.get("pod_cols", _UB.pod_cols)
    return {**params, "pods": _whole(chips, pod, "UB-Mesh pods")}


def _ub_compute(fabric: dict, _: int | None) -> int:
    return fabric.get("board_npus", _UB.board_npus) * fabric.get("rack_boards", _UB.rack_boards)


# --- clos ----------------------------------------------------------------------------------------

def _clos_space(chips: int, chip: ChipType | None) -> dict[str, tuple]:
    """Fat-tree or rail-optimized, 64 x 800G or 128 x 400G switches, 100 to 800 GB/s per chip."""
    return {"variant": ("fat-tree", "rail-optimized"), "radix": (64, 128), "port_GBps": (100, 200, 400, 800),
            "tiers": (2, 3), "oversubscription": (1, 2, 3)}


def _clos_fabric(params: dict, chips: int) -> dict:
    return {**params, "chips": chips}


# --- torus ---------------------------------------------------------------------------------------

def _shapes_3d(chips: int) -> tuple[tuple[int, ...], ...]:
    """Sorted 3-D shapes a <= b <= c with a * b * c = chips, a >= 4 and c <= 8 a (near-cubic)."""
    out = []
    for a in range(4, round(chips ** (1 / 3)) + 1):
        if chips % a:
            continue
        for b in range(a, math.isqrt(chips // a) + 1):
            c, rest = divmod(chips // a, b)
            if not rest and c >= b and c <= 8 * a:
                out.append((a, b, c))
    return tuple(out)


def _torus_space(chips: int, chip: ChipType | None) -> dict[str, tuple]:
    """Near-cubic 3-D shapes; links of the chip's bandwidth over 6 ports, or a half or a quarter of it;
    with and without twist."""
    per_link = _chip_GBps(chip) / 6
    return {"shape": _shapes_3d(chips), "bandwidth_GBps": tuple(round(per_link * f, 3) for f in (0.25, 0.5, 1.0)),
            "twist": (False, True)}


def _torus_fabric(params: dict, chips: int) -> dict:
    shape = params.get("shape")
    if not isinstance(shape, list | tuple) or math.prod(shape) != chips:
        raise ValueError(f"shape {shape!r} does not hold {chips} chips")
    return {**params, "shape": list(shape)}


# --- dragonfly -----------------------------------------------------------------------------------

def _dragonfly_space(chips: int, chip: ChipType | None) -> dict[str, tuple]:
    """8 to 32 chips per router, 16 or 32 routers per group, 100-400 GB/s links (64 x 800G routers)."""
    return {"chips_per_router": (8, 16, 32), "routers_per_group": (16, 32), "global_links_per_router": (4, 8, 16),
            "bandwidth_GBps": (100, 200, 400), "global_bandwidth_GBps": (100, 200)}


def _dragonfly_fabric(params: dict, chips: int) -> dict:
    per_group = params.get("routers_per_group", 0) * params.get("chips_per_router", 0)
    return {**params, "groups": _whole(chips, per_group, "dragonfly groups")}


DEFAULT_SPACES: dict[str, FamilySpace] = {
    "ub-mesh": FamilySpace(_ub_space, ("pods",), _ub_fabric, _ub_compute),
    "clos": FamilySpace(_clos_space, ("chips",), _clos_fabric, _template_chips),
    "torus": FamilySpace(_torus_space, (), _torus_fabric, _template_chips),
    "dragonfly": FamilySpace(_dragonfly_space, ("groups",), _dragonfly_fabric, _template_chips),
}
