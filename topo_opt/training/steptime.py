"""Step time of a model x layout on a fabric: compute, communication, pipeline bubble, memory.

Notation: b micro-batch, s sequence, h hidden, a heads, f FFN width, V vocabulary, L layers;
t, p, d, e the tensor, pipeline, data and expert parallel degrees (t p d = chips), v model
chunks per stage (interleaved schedule), m = B / (d b) micro-batches per pipeline per step.

FLOPs (forward, one micro-batch, one layer; Narayanan et al. 2021, arXiv 2104.04473, sec. 5.1):

    attention linear  2 b s h (2 h + 2 h_kv)        (8 b s h^2 for multi-head attention)
    attention core    4 b s^2 h                    (Q K^T and A V, the full square as the paper counts)
    dense FFN         2 b s n_mat h f               (16 b s h^2 for a GELU FFN of f = 4 h)
    MoE FFN           2 b s (top_k + shared) n_mat h f_e + 2 b s h E   (router)
    logits            2 b s h V                      (once per micro-batch)

Backward costs twice the forward; full recomputation adds one forward of every layer, selective
recomputation the attention core (Korthikanti et al. 2022, arXiv 2205.05198). For a GPT with
full recomputation this is the paper's F = 96 B s L h^2 (1 + s / 6h + V / 16 L h) per step.
Model FLOPs (for MFU) leave recomputation out: 3 x forward.

Time per micro-batch on the busiest stage, which holds L_s = ceil(L / (p v)) v layers:

    gemm_f = (L_s / L) sum_layers F_l / t / (peak x eta(F_l / t)) + F_logits / t / (peak x eta) / p
    gemm_b = 2 gemm_f + recomputation
    eta(F) = eta_max x F / (F + F_half)             [assumed: size-dependent GEMM efficiency, per chip]
    mem    = 3 x 2 x act_s / (B_hbm x eta_hbm)     (+1 with full recompute) [assumed: every activation
             byte of the memory-bound kernels (norms, activations, dropout, residuals) written and read
             once; the attention scores stay on chip (fused kernels)]
    tp     = L_s x (2 + 2 + 2 [full recompute]) x T_coll(tp group, b s h x 2 bytes)
             (all-reduce; with sequence parallelism all-gather and reduce-scatter instead)
    ep     = L_s x (L_moe / L) x (2 + 2 + 2 [full]) x T_all-to-all(ep group, (b s / sp) top_k h x 2 bytes)
    pp     = 2 v x T_send, T_send = T_ring-all-gather(pp group, p x S) / (p - 1),  S = b s h x 2 / t
             (every stage sends to the next at once: one step of a ring all-gather)
    t_mb   = gemm_f + gemm_b + mem + tp + ep + pp          [assumed: TP, EP and PP communication exposed]

The logits are spread over the stages (Megatron balances the last stage by giving it fewer layers).

Step:

    step = m t_mb + (p - 1) / v x t_mb + dp_exposed + optimizer

so the bubble fraction is (p - 1) / (v m) (1F1B: v = 1). Data parallelism: gradients (2 bytes per
weight, assumed bf16 reduction) are all-reduced over the dp group (ZeRO 0), or reduce-scattered and
the updated weights all-gathered (ZeRO >= 1); routed experts over their d / e expert-data group.
The reduction overlaps the backward of the last micro-batch and the all-gather the first forward
of the next step [assumed, Megatron's overlap-grad-reduce / overlap-param-gather]:

    dp_exposed = max(0, sum T_reduce - gemm_b) + max(0, sum T_gather - gemm_f)
    ZeRO 3 adds a weight all-gather in every micro-batch's forward and backward, each overlapped
    with that pass.
    optimizer = 30 bytes x (weights of the chip's optimizer shard) / (B_hbm eta_hbm)
                (Adam: read fp32 gradient, master, m, v; write master, m, v and the bf16 weight)

HBM per chip (Korthikanti et al. 2022 for activations, per layer and micro-batch, 16-bit):

    weights 2, gradients 4 (fp32 main grads), optimizer 12 bytes per weight on the chip
    (dense weights / (t p), routed experts / (t e p)); ZeRO 1 shards the optimizer over DP, 2 also the
    gradients, 3 also the weights (dense over d, experts over d / e).
    act = s b h (10 + 24 / t + 5 a s / (h t))   (no SP)   or   s b h (34 + 5 a s / h) / t   (SP)
          selective recompute drops the 5 a s / h term; full keeps 2 s b h (/ t with SP)
    activations = L_s x act x min(p, m) x (1 + (p - 1) / (p v)) [interleaved]   (the first stage)
    logits = 4 b s V / t (fp32)

A layout whose total exceeds the chip's memory is rejected with the figure.
"""

import math
from dataclasses import dataclass, field

from topo_opt.catalog import ChipType
from topo_opt.training.layout import Layout, microbatches, stage_layers
from topo_opt.training.model import ModelSpec

ACT_BYTES = 2  # activations and collectives in 16-bit
GRAD_COMM_BYTES = 2  # assumed: gradients reduced in bf16
BYTES_WEIGHT, BYTES_GRAD, BYTES_OPTIMIZER = 2, 4, 12
OPTIMIZER_STEP_BYTES = 30


@dataclass(frozen=True)
class Efficiency:
    """Fractions of the chip's peaks (all assumed, tunable per chip).

    GEMMs reach `max_fraction` x F / (F + half_flops) of the FLOP peak, F the per-chip forward
    FLOPs of one layer and micro-batch; memory-bound kernels reach `hbm_fraction` of HBM bandwidth.
    """

    max_fraction: float
    half_flops: float
    hbm_fraction: float

    def gemm(self, flops: float) -> float:
        return self.max_fraction * flops / (flops + self.half_flops)


# assumed: half_flops = 5e10 (a layer of ~2 x 2,048 x 3,500^2 FLOPs per chip runs at half the asymptote)
# and hbm_fraction = 0.8. max_fraction = 0.634 is fitted on five of Megatron-LM's ten Table 1 runs
# on A100s (`python -m topo_opt.training.megatron`; held-out error in the README) and taken for
# every chip: no training efficiency is published for Ascend (assumed). Tune per chip in EFFICIENCY.
DEFAULT_EFFICIENCY = Efficiency(max_fraction=0.634, half_flops=5e10, hbm_fraction=0.8)
EFFICIENCY: dict[str, Efficiency] = {}


def chip_efficiency(chip: ChipType) -> Efficiency:
    return EFFICIENCY.get(chip.name, DEFAULT_EFFICIENCY)


@dataclass(frozen=True)
class CommOp:
    """`count` runs of one collective on the groups of one axis."""

    axis: str  # tp, ep, pp, dp, edp
    stride: int
    size: int
    algorithm: str
    collective: str
    size_bytes: int
    count: float
    window: str = ""  # dp only: "backward" or "forward", the pass it overlaps

    @property
    def need(self) -> tuple[int, int, str, str, int]:
        return (self.stride, self.size, self.algorithm, self.collective, self.size_bytes)


@dataclass(frozen=True)
class StepPlan:
    """Everything about a step except the collective times."""

    layout: Layout
    chips: int
    peak_flops: float
    microbatches: int
    batch: int
    sequence: int
    gemm_f_s: float
    gemm_b_s: float
    mem_s: float
    optimizer_s: float
    per_microbatch: tuple[CommOp, ...]  # tp, ep, pp
    per_step: tuple[CommOp, ...]  # dp
    hbm_bytes: dict
    hbm_capacity_bytes: float
    model_flops: float  # per step, whole job
    hardware_flops: float

    @property
    def fits(self) -> bool:
        return self.hbm_bytes["total"] <= self.hbm_capacity_bytes

    def needs(self) -> list:
        return [op.need for op in self.per_microbatch + self.per_step]


@dataclass(frozen=True)
class StepTime:
    plan: StepPlan
    breakdown_s: dict  # compute, memory, tp, ep, pp, dp, bubble (sum = step)
    step_s: float
    ops: tuple = field(default=())  # (CommOp, time_s) per op

    @property
    def tokens_per_s(self) -> float:
        return self.plan.batch * self.plan.sequence / self.step_s

    @property
    def mfu(self) -> float:
        return self.plan.model_flops / (self.step_s * self.plan.chips * self.plan.peak_flops)


def layer_flops(model: ModelSpec, b: int) -> dict:
    """Forward FLOPs of one micro-batch: per dense / MoE layer, its attention core, the logits."""
    s, h = model.sequence, model.hidden
    attention = 2 * b * s * model.attention_params
    core = 4 * b * s * s * h
    moe_ffn = 2 * b * s * (model.top_k + model.shared_experts) * model.expert_params + 2 * b * s * h * model.experts
    return {"dense": attention + core + 2 * b * s * model.ffn_params, "moe": attention + core + moe_ffn,
            "core": core, "logits": 2 * b * s * h * model.vocabulary}


def peak_tflops(chip: ChipType, dtype: str) -> float:
    return chip.compute_tflops_fp8 if dtype == "fp8" else chip.compute_tflops_bf16


def plan_step(model: ModelSpec, layout: Layout, chip: ChipType, eff: Efficiency) -> StepPlan:
    """The compute, memory and the list of collectives of a layout (layout checked by the caller)."""
    lo, t, p, d = layout, layout.tp, layout.pp, layout.dp
    b, s, L = lo.micro_batch, model.sequence, model.layers
    peak = peak_tflops(chip, model.dtype) * 1e12
    m = microbatches(lo, lo.global_batch or model.global_batch)
    fl = layer_flops(model, b)
    n_dense, n_moe = L - model.moe_layers, model.moe_layers
    ls = stage_layers(L, lo)
    share = ls / L

    def gemm_s(flops: float) -> float:
        return flops / t / (peak * eff.gemm(flops / t))

    layers_f = n_dense * gemm_s(fl["dense"]) + n_moe * gemm_s(fl["moe"])
    gemm_f = share * layers_f + gemm_s(fl["logits"]) / p
    recompute = {"none": 0.0, "selective": share * L * gemm_s(fl["core"]), "full": share * layers_f}[lo.recompute]
    gemm_b = 2 * gemm_f + recompute
    hbm_Bps = chip.memory_GBps * 1e9 * eff.hbm_fraction
    act_kernels = _activation_bytes(model, lo, b, "selective")
    passes = 3 + (1 if lo.recompute == "full" else 0)
    mem = ls * passes * 2 * act_kernels / hbm_Bps

    hbm, shard_weights = _hbm(model, lo, b, m, ls)
    optimizer = OPTIMIZER_STEP_BYTES * shard_weights / hbm_Bps
    model_f = 3 * (n_dense * fl["dense"] + n_moe * fl["moe"] + fl["logits"]) * m * d
    extra = {"none": 0, "selective": L * fl["core"], "full": n_dense * fl["dense"] + n_moe * fl["moe"]}
    hardware_f = model_f + extra[lo.recompute] * m * d
    return StepPlan(lo, lo.chips, peak, m, m * d * b, s, gemm_f, gemm_b, mem, optimizer,
                    _per_microbatch(model, lo, ls), _per_step(model, lo, m), hbm,
                    chip.memory_gb * 1e9, model_f, hardware_f)


def _activation_bytes(model: ModelSpec, lo: Layout, b: int, recompute: str) -> float:
    """Activation bytes one layer keeps for one micro-batch (Korthikanti et al. 2022)."""
    s, h, a, t = model.sequence, model.hidden, model.heads, lo.tp
    scores = 5 * a * s / h if recompute == "none" else 0.0
    if recompute == "full":
        return 2 * s * b * h / (t if lo.sp > 1 else 1)
    if lo.sp > 1:
        return s * b * h * (34 + scores) / t
    return s * b * h * (10 + 24 / t + scores / t)


def _hbm(model: ModelSpec, lo: Layout, b: int, m: int, ls: int) -> tuple[dict, float]:
    t, p, d, e = lo.tp, lo.pp, lo.dp, lo.ep
    dense = model.dense_params / (t * p)
    routed = model.routed_params / (t * e * p)
    edp = d // e

    def sharded(stage: int) -> float:  # weights per chip holding this state, after ZeRO
        return dense / (d if lo.zero >= stage else 1) + routed / (edp if lo.zero >= stage else 1)

    inflight = min(p, m) * (1 + (p - 1) / (p * lo.interleave) if lo.interleave > 1 else 1)
    parts = {
        "weights": BYTES_WEIGHT * sharded(3),
        "gradients": BYTES_GRAD * sharded(2),
        "optimizer": BYTES_OPTIMIZER * sharded(1),
        "activations": ls * _activation_bytes(model, lo, b, lo.recompute) * inflight,
        "logits": 4 * b * model.sequence * model.vocabulary / t,
    }
    parts["total"] = sum(parts.values())
    return parts, sharded(1)


def _per_microbatch(model: ModelSpec, lo: Layout, ls: int) -> tuple[CommOp, ...]:
    t, p, d, e = lo.tp, lo.pp, lo.dp, lo.ep
    b, s, h = lo.micro_batch, model.sequence, model.hidden
    passes = 2 + (1 if lo.recompute == "full" else 0)  # forward, backward, recomputed forward
    ops = []
    act = b * s * h * ACT_BYTES
    if t > 1:
        colls = ("all-gather", "reduce-scatter") if lo.sp > 1 else ("all-reduce",)
        ops += [CommOp("tp", 1, t, "auto", c, act, ls * 2 * passes) for c in colls]
    if e > 1 and model.moe:
        tokens = b * s // (t if lo.sp > 1 else 1)
        size = tokens * model.top_k * h * ACT_BYTES
        ops.append(CommOp("ep", t, e, "auto", "all-to-all", size, ls * model.moe_layers / model.layers * 2 * passes))
    if p > 1:
        send = math.ceil(act / t)
        ops.append(CommOp("pp", t * d, p, "ring", "all-gather", send * p, 2 * lo.interleave))
    return tuple(ops)


def _per_step(model: ModelSpec, lo: Layout, m: int) -> tuple[CommOp, ...]:
    t, p, d, e = lo.tp, lo.pp, lo.dp, lo.ep
    groups = []
    if d > 1:
        groups.append(("dp", t, d, model.dense_params / (t * p)))
    if d // e > 1 and model.routed_params:
        groups.append(("edp", t * e, d // e, model.routed_params / (t * e * p)))
    ops = []
    for axis, stride, size, weights in groups:
        grads = max(size, math.ceil(weights * GRAD_COMM_BYTES / size) * size)  # whole shards
        if lo.zero == 0:
            ops.append(CommOp(axis, stride, size, "auto", "all-reduce", grads, 1, "backward"))
            continue
        ops.append(CommOp(axis, stride, size, "auto", "reduce-scatter", grads, 1, "backward"))
        ops.append(CommOp(axis, stride, size, "auto", "all-gather", grads, 1, "forward"))
        if lo.zero == 3:
            ops.append(CommOp(axis, stride, size, "auto", "all-gather", grads, m, "forward-each"))
            ops.append(CommOp(axis, stride, size, "auto", "all-gather", grads, m, "backward-each"))
    return tuple(ops)


def step_time(plan: StepPlan, comm) -> StepTime:
    """Combine a plan with collective times from `comm` (ScorerTimes or FreeComm)."""
    comm.prefetch(plan.needs())
    lo, m = plan.layout, plan.microbatches
    timed = [(op, comm.time_s(*op.need)) for op in plan.per_microbatch + plan.per_step]
    axis = {"tp": 0.0, "ep": 0.0, "pp": 0.0}
    for op, time_s in timed[:len(plan.per_microbatch)]:
        axis[op.axis] += op.count * (time_s / (op.size - 1) if op.axis == "pp" else time_s)
    t_mb = plan.gemm_f_s + plan.gemm_b_s + plan.mem_s + sum(axis.values())
    windows = {"backward": plan.gemm_b_s, "forward": plan.gemm_f_s,
               "forward-each": plan.gemm_f_s, "backward-each": plan.gemm_b_s}
    busy: dict[str, float] = {}
    for op, time_s in timed[len(plan.per_microbatch):]:
        per = time_s * (1 if op.window.endswith("each") else op.count)
        busy[op.window] = busy.get(op.window, 0.0) + per
    dp = sum(max(0.0, busy_s - windows[w]) * (m if w.endswith("each") else 1) for w, busy_s in busy.items())
    breakdown = {
        "compute": m * (plan.gemm_f_s + plan.gemm_b_s),
        "memory": m * plan.mem_s + plan.optimizer_s,
        "tp": m * axis["tp"], "ep": m * axis["ep"], "pp": m * axis["pp"], "dp": dp,
        "bubble": (lo.pp - 1) / lo.interleave * t_mb,
    }
    return StepTime(plan, breakdown, sum(breakdown.values()), tuple(timed))
