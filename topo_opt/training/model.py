"""Model descriptions for `train`: frozen dataclasses read from YAML (`instances/models/*.yaml`).

A model is a decoder-only transformer: `layers` blocks of attention and a feed-forward network
(FFN), the first `dense_layers` dense and the rest mixture-of-experts when `experts` > 0.
Parameter counts (norms and biases left out, under 0.1 %):

    attention   h (2 h + 2 h_kv)               (Q and O: h x h; K and V: h x h_kv, h_kv = kv_heads x h / heads)
    dense FFN   n_mat h f                      (n_mat = 2 for GELU, 3 for SwiGLU; f = ffn_hidden)
    MoE FFN     (experts + shared) n_mat h f_e + h experts (router)
    embeddings  V h, twice when not tied

Validated like instances: one-line errors with the dotted path of the field, every number finite
and in range.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from topo_opt.instance import _choice, _Ctx, _parse_dataclass

FFN_TYPES = {"gelu": 2, "swiglu": 3}  # weight matrices per FFN
DTYPES = ("bf16", "fp8")


def _zero_ok(default: Any) -> Any:
    return field(default=default, metadata={"min": 0})


@dataclass(frozen=True)
class ModelSpec:
    name: str
    layers: int
    hidden: int
    ffn_hidden: int
    heads: int
    sequence: int
    vocabulary: int
    global_batch: int  # sequences per step
    sources: tuple[str, ...]
    description: str = ""
    ffn_type: str = "gelu"
    kv_heads: int = _zero_ok(0)  # 0 = heads (multi-head attention)
    dtype: str = "bf16"  # the GEMMs' precision, which picks the chip's peak
    tied_embeddings: bool = True
    experts: int = _zero_ok(0)
    top_k: int = _zero_ok(0)
    shared_experts: int = _zero_ok(0)
    expert_ffn_hidden: int = _zero_ok(0)
    dense_layers: int = _zero_ok(0)  # leading dense layers of an MoE model
    assumptions: tuple[str, ...] = ()

    @property
    def moe(self) -> bool:
        return self.experts > 0

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers if self.moe else 0

    @property
    def kv_dim(self) -> int:
        return (self.kv_heads or self.heads) * (self.hidden // self.heads)

    @property
    def attention_params(self) -> int:
        return self.hidden * (2 * self.hidden + 2 * self.kv_dim)

    @property
    def ffn_params(self) -> int:
        return FFN_TYPES[self.ffn_type] * self.hidden * self.ffn_hidden

    @property
    def expert_params(self) -> int:
        """One expert's FFN weights."""
        return FFN_TYPES[self.ffn_type] * self.hidden * self.expert_ffn_hidden

    @property
    def embedding_params(self) -> int:
        return self.vocabulary * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def routed_params(self) -> int:
        """Routed-expert weights of the whole model (sharded over expert parallelism)."""
        return self.moe_layers * self.experts * self.expert_params

    @property
    def dense_params(self) -> int:
        """Every other weight: attention, dense FFNs, shared experts, routers, embeddings."""
        dense_ffn = (self.layers - self.moe_layers) * self.ffn_params
        moe_rest = self.moe_layers * (self.shared_experts * self.expert_params + self.hidden * self.experts)
        return self.layers * self.attention_params + dense_ffn + moe_rest + self.embedding_params

    @property
    def params(self) -> int:
        return self.dense_params + self.routed_params


# Upper limits that catch a typo (an extra digit) without refusing any model in sight.
_MAX = {"layers": 10_000, "hidden": 1_000_000, "ffn_hidden": 10_000_000, "heads": 100_000,
        "sequence": 10_000_000, "vocabulary": 10_000_000, "global_batch": 100_000_000,
        "experts": 100_000, "top_k": 100_000, "shared_experts": 100_000, "expert_ffn_hidden": 10_000_000,
        "dense_layers": 10_000, "kv_heads": 100_000}


def model_from_mapping(raw: Any, file: str) -> ModelSpec:
    """Validate a parsed model YAML document; raises InstanceError naming the field."""
    ctx = _Ctx(file)
    spec = _parse_dataclass(raw, ModelSpec, ctx)
    for name, limit in _MAX.items():
        if getattr(spec, name) > limit:
            raise ctx.at(name).fail(f"must be at most {limit:,}, got {getattr(spec, name):,}")
    _choice(spec.ffn_type, tuple(FFN_TYPES), ctx.at("ffn_type"), "FFN type")
    _choice(spec.dtype, DTYPES, ctx.at("dtype"), "dtype")
    if not spec.sources:
        raise ctx.at("sources").fail("list at least one source (paper or model card) for the figures")
    if spec.hidden % spec.heads:
        raise ctx.at("heads").fail(f"must divide hidden = {spec.hidden}, got {spec.heads}")
    if spec.kv_heads and spec.heads % spec.kv_heads:
        raise ctx.at("kv_heads").fail(f"must divide heads = {spec.heads}, got {spec.kv_heads}")
    _check_moe(spec, ctx)
    return spec


def _check_moe(spec: ModelSpec, ctx: _Ctx) -> None:
    moe_fields = ("top_k", "shared_experts", "expert_ffn_hidden", "dense_layers")
    if not spec.moe:
        for name in moe_fields:
            if getattr(spec, name):
                raise ctx.at(name).fail("applies to mixture-of-experts models only (set experts first)")
        return
    if not 1 <= spec.top_k <= spec.experts:
        raise ctx.at("top_k").fail(f"must be 1 to experts = {spec.experts}, got {spec.top_k}")
    if spec.expert_ffn_hidden < 1:
        raise ctx.at("expert_ffn_hidden").fail("is required (positive) for a mixture-of-experts model")
    if spec.dense_layers >= spec.layers:
        raise ctx.at("dense_layers").fail(f"must be below layers = {spec.layers}, got {spec.dense_layers}")


def model_summary(spec: ModelSpec) -> dict:
    return {"name": spec.name, "params": spec.params, "routed_params": spec.routed_params,
            **{f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
               if f.name in ("layers", "hidden", "heads", "sequence", "global_batch", "dtype", "experts", "top_k")}}
