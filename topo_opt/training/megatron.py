"""Validation against Megatron-LM's published runs on Selene, and the fit of the GEMM efficiency.

Narayanan et al. 2021 (arXiv 2104.04473), Table 1: GPT models of 1.7B to 1T parameters
(vocabulary 51,200, sequence 2,048) on DGX A100 servers, with the tensor and pipeline degrees,
the GPU count, the batch and the achieved TFLOP/s per GPU, counted with the paper's
F = 96 B s L h^2 (1 + s / 6h + V / 16 L h) (full activation recomputation). The published
iteration time is F / (GPUs x TFLOP/s).

Assumed for every run (not given in the table): micro-batch 1, 1F1B schedule, full recomputation,
no sequence parallelism and no distributed optimizer (neither existed in Megatron-LM then),
data parallelism over the rest of the GPUs. `max_fraction` of the A100's GEMM efficiency is
fitted on the rows named in FIT_ROWS (half of them, by least squares on log time) and the error
reported on the others.

Run `python -m topo_opt.training.megatron [instances/selene-dgx-a100.yaml]` for the README table.
"""

import dataclasses
import math
import sys

from scipy.optimize import minimize_scalar

from topo_opt.fabric import build_fabric
from topo_opt.instance import Instance
from topo_opt.training.comm import ScorerTimes
from topo_opt.training.layout import Layout
from topo_opt.training.model import ModelSpec
from topo_opt.training.steptime import chip_efficiency, plan_step, step_time

SOURCE = "Narayanan et al. 2021, arXiv 2104.04473, Table 1"
# (name, heads, hidden, layers, tp, pp, GPUs, batch, TFLOP/s per GPU)
TABLE1 = (
    ("1.7B", 24, 2304, 24, 1, 1, 32, 512, 137),
    ("3.6B", 32, 3072, 30, 2, 1, 64, 512, 138),
    ("7.5B", 32, 4096, 36, 4, 1, 128, 512, 142),
    ("18.4B", 48, 6144, 40, 8, 1, 256, 1024, 135),
    ("39.1B", 64, 8192, 48, 8, 2, 512, 1536, 138),
    ("76.1B", 80, 10240, 60, 8, 4, 1024, 1792, 140),
    ("145.6B", 96, 12288, 80, 8, 8, 1536, 2304, 148),
    ("310.1B", 128, 16384, 96, 8, 16, 1920, 2160, 155),
    ("529.6B", 128, 20480, 105, 8, 35, 2520, 2520, 163),
    ("1008.0B", 160, 25600, 128, 8, 64, 3072, 3072, 163),
)
FIT_ROWS = ("1.7B", "7.5B", "39.1B", "145.6B", "529.6B")  # every other row: half of them
SEQUENCE, VOCABULARY = 2048, 51200


def paper_flops(row: tuple) -> float:
    _, _, h, L, _, _, _, B, _ = row
    s, V = SEQUENCE, VOCABULARY
    return 96 * B * s * L * h * h * (1 + s / (6 * h) + V / (16 * L * h))


def row_model(row: tuple) -> ModelSpec:
    name, heads, h, L, _, _, _, B, _ = row
    return ModelSpec(f"megatron-{name}", L, h, 4 * h, heads, SEQUENCE, VOCABULARY, B, (SOURCE,))


def row_layout(row: tuple) -> Layout:
    _, _, _, _, tp, pp, gpus, _, _ = row
    return Layout(tp, pp, gpus // (tp * pp), recompute="full")


def row_instance(selene: Instance, row: tuple) -> Instance:
    """Selene cut to the run's GPU count (whole DGX servers)."""
    return dataclasses.replace(selene, fabric=dataclasses.replace(
        selene.fabric, params=dataclasses.replace(selene.fabric.params, chips=row[6])))


def validate(selene: Instance, rows: tuple = TABLE1, fit_rows: tuple = FIT_ROWS) -> dict:
    """Fit max_fraction on `fit_rows` (at most half), predict every row; the comm is scored once per row."""
    if 2 * len(fit_rows) > len(rows):
        raise ValueError("fit the efficiency on at most half of the rows")
    base = chip_efficiency(selene.chip)
    cases = []
    for row in rows:
        inst = row_instance(selene, row)
        comm = ScorerTimes(build_fabric(inst), row[6])
        cases.append((row, comm))

    def predict(max_fraction: float) -> list[float]:
        eff = dataclasses.replace(base, max_fraction=max_fraction)
        return [step_time(plan_step(row_model(r), row_layout(r), selene.chip, eff), c).step_s for r, c in cases]

    published = [paper_flops(r) / (r[6] * r[8] * 1e12) for r in rows]
    fit_idx = [i for i, r in enumerate(rows) if r[0] in fit_rows]

    def loss(x: float) -> float:
        pred = predict(x)
        return sum(math.log(pred[i] / published[i]) ** 2 for i in fit_idx)

    best = minimize_scalar(loss, bounds=(0.2, 1.0), method="bounded", options={"xatol": 1e-4})
    fitted = float(best.x)
    pred = predict(fitted)
    out = []
    for (row, _), p_s, pub_s in zip(cases, pred, published, strict=True):
        out.append({"model": row[0], "tp": row[4], "pp": row[5], "gpus": row[6], "batch": row[7],
                    "published_tflops_per_gpu": row[8], "published_s": pub_s, "model_s": p_s,
                    "error": p_s / pub_s - 1, "fit": row[0] in fit_rows})
    held = [abs(r["error"]) for r in out if not r["fit"]]
    return {"source": SOURCE, "max_fraction": fitted, "half_flops": base.half_flops,
            "hbm_fraction": base.hbm_fraction, "rows": out,
            "held_out_mean_abs_error": sum(held) / len(held), "held_out_max_abs_error": max(held)}


def markdown(result: dict) -> str:
    lines = ["| model | tp | pp | GPUs | batch | published TFLOP/s/GPU | published s | model s | error "
             "| used for fit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['model']} | {r['tp']} | {r['pp']} | {r['gpus']:,} | {r['batch']:,} | "
                     f"{r['published_tflops_per_gpu']} | {r['published_s']:.2f} | {r['model_s']:.2f} | "
                     f"{r['error']:+.1%} | {'yes' if r['fit'] else 'no'} |")
    lines.append(f"\nfitted max_fraction = {result['max_fraction']:.3f} (half_flops {result['half_flops']:.0e}, "
                 f"assumed); held-out mean |error| {result['held_out_mean_abs_error']:.1%}, "
                 f"max {result['held_out_max_abs_error']:.1%}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    from topo_opt.io import read_instance

    print(markdown(validate(read_instance(argv[0] if argv else "instances/selene-dgx-a100.yaml"))))


if __name__ == "__main__":
    main(sys.argv[1:])
