"""Hall placement of a SuperCluster: G identical SuperPoD halls and one DCN hall on a grid of
rows x cols hall cells (`instance.Hall`). Pure: no solver, no files.

Every chip port of a SuperPoD is one cable from its hall to the DCN hall (`provisioning.dcn`),
c cables per SuperPoD. With the DCN hall at cell d and SuperPoD s at cell x_s (distinct cells,
none equal to d), a run is
    len(x_s, d) = (|row(x_s) - row(d)| + |col(x_s) - col(d)|) x pitch_m + cable_slack_m
and the objective is the total DCN cable length
    min over d, x:  sum_s c x len(x_s, d).
For a fixed d the SuperPoDs are identical and each one's cost depends on its own cell only, so
taking the G cells nearest to d is optimal (exchange argument: a solution that uses a cell e
while a nearer free cell f exists is no worse after moving that SuperPoD from e to f). Enumerating
every d and taking its G nearest cells therefore solves the problem exactly: status OPTIMAL,
bound = objective, gap 0. Ties go to the lowest cell index (row-major), for the DCN hall and
for the order in which SuperPoDs 0, 1, ... take the nearest cells.

Power and cooling: each SuperPoD hall must feed and cool one SuperPoD (its provisioning BOM's
total power: compute cabinets, interconnect overhead and network), the DCN hall the DCN's
switches and every DCN cable's optics (both ends counted in the DCN hall: conservative).
"""

import time
from dataclasses import dataclass

import numpy as np

from topo_opt.errors import InfeasibleError
from topo_opt.instance import Hall
from topo_opt.solution import SolveOptions, StageReport


@dataclass(frozen=True)
class HallPlacement:
    """`dcn_cell` and `superpod_cells[s]` as (row, col); `run_lengths_m[s]` SuperPoD s's DCN run."""

    rows: int
    cols: int
    pitch_m: float
    dcn_cell: tuple[int, int]
    superpod_cells: tuple[tuple[int, int], ...]
    run_lengths_m: tuple[float, ...]
    cables_per_superpod: int
    report: StageReport

    @property
    def cable_length_m(self) -> float:
        return self.cables_per_superpod * sum(self.run_lengths_m)

    def to_dict(self) -> dict:
        return {"rows": self.rows, "cols": self.cols, "pitch_m": self.pitch_m,
                "dcn_cell": list(self.dcn_cell),
                "superpod_cells": [list(c) for c in self.superpod_cells],
                "run_lengths_m": list(self.run_lengths_m),
                "cables_per_superpod": self.cables_per_superpod,
                "cable_length_m": self.cable_length_m, "report": self.report.to_dict()}


def _distances(hall: Hall, dcn: int) -> np.ndarray:
    """Manhattan distance in cells from cell `dcn` to every cell; -1 at `dcn` itself (sorts first)."""
    cells = np.arange(hall.rows * hall.cols)
    dist = np.abs(cells // hall.cols - dcn // hall.cols) + np.abs(cells % hall.cols - dcn % hall.cols)
    dist[dcn] = -1
    return dist


def nearest_cells(hall: Hall, dcn: int, superpods: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, distances in cells) of the `superpods` cells nearest to cell `dcn`, nearest first,
    ties by cell index."""
    dist = _distances(hall, dcn)
    order = np.lexsort((np.arange(len(dist)), dist))[1:superpods + 1]
    return order, dist[order]


def nearest_total(hall: Hall, dcn: int, superpods: int) -> int:
    """Sum of the distances of the `superpods` cells nearest to `dcn` (in cells)."""
    return int(np.partition(_distances(hall, dcn), superpods)[:superpods + 1].sum()) + 1


def place_halls(hall: Hall, superpods: int, cables_per_superpod: int, options: SolveOptions) -> HallPlacement:
    """The exact optimum of the module docstring's problem, by enumeration of the DCN cell."""
    start = time.perf_counter()
    totals = [nearest_total(hall, d, superpods) for d in range(hall.rows * hall.cols)]
    dcn = int(np.argmin(totals))  # the first minimum: the lowest cell index among ties
    cells, dist = nearest_cells(hall, dcn, superpods)
    lengths = tuple(float(d * hall.pitch_m + hall.cable_slack_m) for d in dist)
    objective = cables_per_superpod * sum(lengths)
    report = StageReport("halls", "OPTIMAL", objective, objective, 0.0,
                         "exact: every DCN cell enumerated, SuperPoDs on its nearest cells (exchange argument)",
                         time.perf_counter() - start, options.time_limit_s, options.seed, options.workers)
    return HallPlacement(hall.rows, hall.cols, hall.pitch_m, divmod(dcn, hall.cols),
                         tuple(divmod(int(c), hall.cols) for c in cells), lengths, cables_per_superpod, report)


def check_dcn_hall(hall: Hall, dcn_kw: float) -> None:
    """InfeasibleError when the DCN hall is over its feed or its cooling (checked before the
    SuperPoD's stages spend the time limit)."""
    _check_hall("the DCN hall", dcn_kw, (("power (hall.dcn_power_kw, else hall.power_kw)", hall.dcn_power_cap_kw),
                                         ("cooling (hall.dcn_cooling_kw, else hall.cooling_kw)",
                                          hall.dcn_cooling_cap_kw)))


def check_superpod_hall(hall: Hall, superpod_kw: float) -> None:
    """InfeasibleError when a SuperPoD hall is over its feed or its cooling."""
    _check_hall("a SuperPoD hall", superpod_kw, (("power (hall.power_kw)", hall.power_kw),
                                                 ("cooling (hall.cooling_kw)", hall.cooling_kw)))


def _check_hall(name: str, need_kw: float, limits: tuple[tuple[str, float], ...]) -> None:
    """The message names the hall, the resource and the excess."""
    for resource, cap_kw in limits:
        if need_kw > cap_kw + 1e-9:
            raise InfeasibleError(f"hall: {name} needs {need_kw:,.1f} kW of {resource} but has {cap_kw:,.1f} kW "
                                  f"(over by {need_kw - cap_kw:,.1f} kW)")
