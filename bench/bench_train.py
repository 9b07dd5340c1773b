"""Wall time and peak memory of `train --search`: the DeepSeek-V3-like 671B MoE on the Atlas 960
SuperPoD (15,488 chips), and GPT-3 175B on the Atlas 950 and on its Clos baseline (limit for the
MoE search on the Atlas 960: 60 s and 2 GiB on 2 cores)."""

import time

from bench.common import measure, write_bench
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance, read_model_named
from topo_opt.training.run import train

CASES = (("instances/atlas960-superpod.yaml", "deepseek-v3-671b"),
         ("instances/atlas950-superpod.yaml", "gpt3-175b"),
         ("instances/clos8k-950dt.yaml", "gpt3-175b"))


def _search(path: str, model_name: str) -> dict:
    start = time.perf_counter()
    inst = read_instance(path)
    graph = build_fabric(inst)
    built = time.perf_counter()
    record = train(inst, read_model_named(model_name), graph=graph)
    done = time.perf_counter()
    found = record["search"]
    best = found["best"]
    return {"chips": record["chips"], "build_s": built - start, "search_s": done - built,
            "candidates": found["candidates"], "timed": found["timed"], "scorer_calls": found["scorer_calls"],
            "best": best and {"layout": best["label"], "step_s": best["step_s"],
                              "tokens_per_s": best["tokens_per_s"], "mfu": best["mfu"],
                              "hbm_GB": best["hbm_GB"]["total"]},
            "rejected": {kind: v["count"] for kind, v in found["rejected"].items()}}


def main() -> None:
    cases = []
    for path, model in CASES:
        m = measure(_search, path, model)
        cases.append({"case": f"{path}: train --model {model} --search", "wall_s": m.get("wall_s"),
                      "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}), "error": m.get("error")})
    write_bench("train", cases, note="one fresh process per case; wall_s includes loading and building the "
                "fabric (build_s) and the search with its scorer calls (search_s); peak RSS includes the "
                "interpreter and imports")
