"""`train`: one layout's step time, or the layout search, for a model on an instance's fabric."""

import dataclasses

import networkx as nx

from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.instance import Instance, fabric_chip_count
from topo_opt.training.comm import ScorerTimes
from topo_opt.training.layout import Layout
from topo_opt.training.model import ModelSpec, model_summary
from topo_opt.training.report import search_record, step_record
from topo_opt.training.search import Rejected, SearchSpace, check_chip, evaluate, search
from topo_opt.training.steptime import Efficiency, chip_efficiency


def train(instance: Instance, model: ModelSpec, layout: Layout | None = None,
          space: SearchSpace | None = None, graph: nx.Graph | None = None,
          efficiency: Efficiency | None = None) -> dict:
    """The `train` record: `layout` (one layout's figures) or `search` (best, top, rejected).

    Raises InstanceError for a layout that breaks a rule, InfeasibleError for one over HBM.
    """
    where = instance.source_file or instance.name
    chip = check_chip(instance.chip, model.dtype, where)
    eff = efficiency or chip_efficiency(chip)
    chips = fabric_chip_count(instance.fabric)
    comm = ScorerTimes(graph if graph is not None else build_fabric(instance), chips)
    out = {"instance": instance.name, "model": model_summary(model), "chips": chips, "chip": chip.name,
           "efficiency": dataclasses.asdict(eff), "efficiency_assumed": True}
    if layout is not None:
        result = evaluate(model, layout, chip, eff, comm, chips)
        if isinstance(result, Rejected):
            if result.kind == "hbm":
                raise InfeasibleError(f"layout {layout.label()}: {result.reason}")
            term, _, why = result.reason.partition(": ")
            raise InstanceError("--layout", f"layout.{term}" if result.kind == "rule" else "layout", why)
        out["layout"] = step_record(result, comm.records)
    else:
        domain = instance.fabric.family_def.tp_domain(instance.fabric.params)
        space = space or SearchSpace()
        found = search(model, chip, eff, comm, chips, domain, space)
        out["search"] = search_record(found, comm.records, space.top)
        out["search"]["tp_domain"] = domain
    out["scorer_calls"] = comm.calls
    return out
