"""Collective scoring: schedules of collective algorithms timed on a fabric graph.

`score_fabric(graph, collectives, sizes_bytes, algorithms=("auto",), model="flow", groups=None,
routing="structured")` returns one record per (collective, algorithm, size); see `score` for the
record format, `algorithms` for the schedules and their alpha-beta costs, `fluid` for the timing
models, `routing` for how flows find their links, `symmetric` (dimension order) and `shortest`
(shortest paths) for the fast paths on product fabrics, `brute` for the reference the tests hold
them to, and `bounds` for the lower bounds.
"""

from topo_opt.collectives.algorithms import ALGORITHMS
from topo_opt.collectives.routing import ROUTINGS
from topo_opt.collectives.score import MODELS, score_fabric
from topo_opt.instance import COLLECTIVES

__all__ = ["ALGORITHMS", "COLLECTIVES", "MODELS", "ROUTINGS", "score_fabric"]
