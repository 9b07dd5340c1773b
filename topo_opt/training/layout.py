"""A parallel layout: how a model's step is split over the chips.

Text form (the `--layout` option), terms in any order, unnamed ones at their defaults:

    tp=8,pp=16,dp=64[,ep=8][,sp=8][,mb=1][,gbs=1536][,schedule=1f1b|interleaved][,v=2]
    [,recompute=none|selective|full][,zero=0|1|2|3]

- tp, pp, dp: tensor, pipeline and data parallel degrees; tp x pp x dp = the fabric's chips;
- ep: expert parallel degree, carved out of dp (ep divides dp; the model's experts divide by ep);
- sp: sequence parallelism, 1 (off) or tp (Megatron's: norms and dropout sharded over the TP group);
- mb: micro-batch (sequences); gbs: global batch (sequences; 0 = the model's);
- schedule: 1f1b, or interleaved with v > 1 model chunks per stage;
- recompute: activation recomputation; zero: optimizer sharding over DP (1 optimizer states,
  2 + gradients, 3 + weights).

Chips are numbered with tp fastest, then ep, then the rest of dp, then pp (Megatron's order), so
a TP group is `tp` consecutive chips: the fabric's board, rack or server when tp fits in it.
"""

import math
from dataclasses import dataclass, replace

from topo_opt.errors import InstanceError

SCHEDULES = ("1f1b", "interleaved")
RECOMPUTE = ("none", "selective", "full")
BATCH_TOLERANCE = 0.1  # a layout's batch (dp x mb x micro-batches) may differ this much from the target
_INT_TERMS = {"tp": "tp", "pp": "pp", "dp": "dp", "ep": "ep", "sp": "sp", "mb": "micro_batch",
              "gbs": "global_batch", "v": "interleave", "zero": "zero"}
_TEXT_TERMS = {"schedule": ("schedule", SCHEDULES), "recompute": ("recompute", RECOMPUTE)}


@dataclass(frozen=True)
class Layout:
    tp: int
    pp: int
    dp: int
    ep: int = 1
    sp: int = 1
    micro_batch: int = 1
    global_batch: int = 0
    schedule: str = "1f1b"
    interleave: int = 1
    recompute: str = "none"
    zero: int = 0

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.dp

    def label(self) -> str:
        parts = [f"tp={self.tp}", f"pp={self.pp}", f"dp={self.dp}"]
        parts += [f"ep={self.ep}"] if self.ep > 1 else []
        parts += [f"sp={self.sp}"] if self.sp > 1 else []
        parts += [f"mb={self.micro_batch}"]
        parts += [f"schedule=interleaved,v={self.interleave}"] if self.schedule == "interleaved" else []
        parts += [f"recompute={self.recompute}"] if self.recompute != "none" else []
        parts += [f"zero={self.zero}"] if self.zero else []
        return ",".join(parts)

    def to_dict(self) -> dict:
        return {"tp": self.tp, "pp": self.pp, "dp": self.dp, "ep": self.ep, "sp": self.sp,
                "micro_batch": self.micro_batch, "global_batch": self.global_batch, "schedule": self.schedule,
                "interleave": self.interleave, "recompute": self.recompute, "zero": self.zero}


def parse_layout_text(text: str, chips: int = 0, where: str = "--layout") -> Layout:
    """Parse the text form; dp defaults to chips / (tp pp). Raises InstanceError(where, 'layout.TERM', …)."""
    values: dict = {}
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        key, value = key.strip(), value.strip()
        if key in _INT_TERMS:
            if not value.isdigit():
                raise InstanceError(where, f"layout.{key}", f"must be a whole number, got {value!r}")
            values[_INT_TERMS[key]] = int(value)
        elif key in _TEXT_TERMS:
            name, allowed = _TEXT_TERMS[key]
            if value not in allowed:
                raise InstanceError(where, f"layout.{key}", f"must be one of {', '.join(allowed)}, got {value!r}")
            values[name] = value
        else:
            raise InstanceError(where, "layout", f"unknown term {part.strip()!r}; write e.g. tp=8,pp=16,dp=64,mb=1")
    if "dp" not in values and chips and "tp" in values and "pp" in values:
        values["dp"] = max(1, chips // (values["tp"] * values["pp"]))
    for key in ("tp", "pp", "dp"):
        if _INT_TERMS[key] not in values:
            raise InstanceError(where, f"layout.{key}", "is required (write e.g. tp=8,pp=16,dp=64)")
    layout = Layout(**values)
    if layout.schedule == "interleaved" and "interleave" not in values:
        layout = replace(layout, interleave=2)
    return layout


def layout_problem(layout: Layout, layers: int, heads: int, experts: int, chips: int) -> tuple[str, str] | None:
    """(term, why) when the layout cannot run this model on `chips` chips, else None."""
    lo = layout
    for term, value, low in (("tp", lo.tp, 1), ("pp", lo.pp, 1), ("dp", lo.dp, 1), ("ep", lo.ep, 1),
                             ("mb", lo.micro_batch, 1), ("v", lo.interleave, 1)):
        if value < low:
            return term, f"must be at least {low}, got {value}"
    if lo.zero > 3:
        return "zero", f"must be 0 to 3, got {lo.zero}"
    if lo.chips != chips:
        return "tp", f"tp x pp x dp = {lo.chips:,} but the fabric has {chips:,} chips"
    if heads % lo.tp:
        return "tp", f"must divide the model's {heads} heads, got {lo.tp}"
    if lo.sp not in (1, lo.tp):
        return "sp", f"must be 1 (off) or tp = {lo.tp}, got {lo.sp}"
    if lo.dp % lo.ep:
        return "ep", f"must divide dp = {lo.dp}, got {lo.ep}"
    if lo.ep > 1 and (not experts or experts % lo.ep):
        return "ep", (f"must divide the model's {experts} experts, got {lo.ep}" if experts
                      else "applies to mixture-of-experts models only")
    if (lo.schedule == "interleaved") != (lo.interleave > 1):
        return "v", "the interleaved schedule takes v > 1 model chunks per stage; 1f1b takes v = 1"
    if lo.pp * lo.interleave > layers:
        return "pp", f"pp x v = {lo.pp * lo.interleave} exceeds the model's {layers} layers"
    return None


def microbatches(layout: Layout, target_batch: int) -> int:
    """Micro-batches per pipeline per step: the global batch over dp x mb, rounded to the nearest."""
    return max(1, round(target_batch / (layout.dp * layout.micro_batch)))


def stage_layers(layers: int, layout: Layout) -> int:
    """Layers of the busiest stage: ceil(L / (pp v)) per chunk, v chunks."""
    return math.ceil(layers / (layout.pp * layout.interleave)) * layout.interleave
