"""Placement: chips into cabinets, cabinets onto floor slots, under power and cooling limits.

`place(instance, graph, options) -> Placement` is the entry point; see `solve.py` for the pipeline
and `problem.py` for the notation and the objective.
"""

from topo_opt.placement.result import Placement
from topo_opt.placement.solve import place, reprice

__all__ = ["Placement", "place", "reprice"]
