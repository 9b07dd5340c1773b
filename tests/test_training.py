"""`train`: the step-time model against closed forms and the scorer, layouts, model files, search."""

import dataclasses
import json

import pytest
import yaml
from click.testing import CliRunner

from topo_opt.catalog import CHIPS
from topo_opt.cli import main
from topo_opt.collectives import score_fabric
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.instance import instance_from_mapping
from topo_opt.io import read_instance, read_model_named
from topo_opt.training.comm import FreeComm, ScorerTimes, group_spec
from topo_opt.training.layout import Layout, parse_layout_text
from topo_opt.training.megatron import FIT_ROWS, TABLE1, paper_flops, row_layout, row_model, validate
from topo_opt.training.model import ModelSpec, model_from_mapping
from topo_opt.training.run import train
from topo_opt.training.search import SearchSpace, evaluate, per_target_s, search
from topo_opt.training.steptime import DEFAULT_EFFICIENCY, Efficiency, plan_step, step_time

FLAT = Efficiency(max_fraction=0.5, half_flops=0.0, hbm_fraction=1.0)  # size-independent, for closed forms
GPT = ModelSpec("toy-gpt", layers=16, hidden=1024, ffn_hidden=4096, heads=16, sequence=1024,
                vocabulary=32000, global_batch=64, sources=("test",))
MOE = dataclasses.replace(GPT, name="toy-moe", experts=8, top_k=2, expert_ffn_hidden=512, dense_layers=2,
                          ffn_type="swiglu")


def _chip(**kw):
    return dataclasses.replace(CHIPS["ascend-950dt"], **kw)


def _dims_instance(sizes=(4, 4), bandwidth_GBps=100.0, chip="ascend-950dt"):
    dims = [{"shape": "full-mesh", "size": k, "bandwidth_GBps": bandwidth_GBps, "latency_ns": 500} for k in sizes]
    return instance_from_mapping({"name": "toy", "chip": chip, "fabric": {"family": "dims", "dims": dims}}, "toy.yaml")


@pytest.mark.parametrize("layout", [
    Layout(2, 4, 2, micro_batch=1), Layout(4, 2, 2, micro_batch=2, recompute="full"),
    Layout(2, 4, 2, schedule="interleaved", interleave=2, recompute="selective"), Layout(16, 1, 1)])
def test_free_communication_is_flops_over_peak_plus_bubble(layout):
    chip = _chip(memory_GBps=1e15)  # memory-bound kernels take no time either
    plan = plan_step(GPT, layout, chip, FLAT)
    st = step_time(plan, FreeComm())
    peak = chip.compute_tflops_bf16 * 1e12
    m = GPT.global_batch // (layout.dp * layout.micro_batch)
    assert plan.microbatches == m
    expected = plan.hardware_flops / (layout.chips * peak * FLAT.max_fraction) * (
        1 + (layout.pp - 1) / (layout.interleave * m))
    assert st.step_s == pytest.approx(expected, rel=1e-6)
    assert st.breakdown_s["bubble"] == pytest.approx(st.breakdown_s["compute"] * (layout.pp - 1)
                                                     / (layout.interleave * m), rel=1e-6)


def test_full_recompute_flops_are_narayanans_formula():
    for row in TABLE1:
        plan = plan_step(row_model(row), row_layout(row), CHIPS["nvidia-a100-80gb"], FLAT)
        assert plan.hardware_flops == pytest.approx(paper_flops(row), rel=1e-9)


def test_free_compute_exposes_the_scorers_times():
    inst = _dims_instance()
    graph = build_fabric(inst)
    chip = _chip(compute_tflops_bf16=1e15, memory_GBps=1e15)
    layout = Layout(4, 1, 4, sp=4, zero=1)
    plan = plan_step(GPT, layout, chip, FLAT)
    st = step_time(plan, ScorerTimes(graph, 16))
    act = GPT.sequence * GPT.hidden * 2  # micro-batch 1, 16-bit
    tp = {r["collective"]: r["time_s"] for r in
          score_fabric(graph, ["all-gather", "reduce-scatter"], [act], ("auto",), "flow", "g=4,hi=4@g")}
    m = plan.microbatches
    assert st.breakdown_s["tp"] == pytest.approx(m * GPT.layers * 2 * 2 * (tp["all-gather"] + tp["reduce-scatter"]),
                                                 rel=1e-9)
    grads = next(op.size_bytes for op in plan.per_step if op.collective == "reduce-scatter")
    dp = {r["collective"]: r["time_s"] for r in
          score_fabric(graph, ["reduce-scatter", "all-gather"], [grads], ("auto",), "flow", "lo=4,g=4@g")}
    assert st.breakdown_s["dp"] == pytest.approx(dp["reduce-scatter"] + dp["all-gather"], rel=1e-6)
    assert st.breakdown_s["compute"] < 1e-6 * st.step_s


def test_pipeline_send_is_one_ring_step_and_expert_all_to_all_is_scored():
    graph = build_fabric(_dims_instance((4, 4)))
    chip = _chip(compute_tflops_bf16=1e15, memory_GBps=1e15)
    layout = Layout(1, 4, 4, ep=4, zero=1)
    st = step_time(plan_step(MOE, layout, chip, FLAT), ScorerTimes(graph, 16))
    send = MOE.sequence * MOE.hidden * 2
    (ring,) = score_fabric(graph, ["all-gather"], [4 * send], ("ring",), "flow", group_spec(16, 4, 4))
    assert st.breakdown_s["pp"] == pytest.approx(16 * 2 * ring["time_s"] / 3, rel=1e-9)
    (a2a,) = score_fabric(graph, ["all-to-all"], [send * MOE.top_k], ("auto",), "flow", group_spec(16, 1, 4))
    moe_layers_per_stage = (MOE.layers // 4) * MOE.moe_layers / MOE.layers
    assert st.breakdown_s["ep"] == pytest.approx(16 * moe_layers_per_stage * 4 * a2a["time_s"], rel=1e-9)


def test_scorer_calls_are_cached_and_batched():
    graph = build_fabric(_dims_instance())
    comm = ScorerTimes(graph, 16)
    plan = plan_step(GPT, Layout(4, 2, 2, sp=4, zero=1), _chip(), DEFAULT_EFFICIENCY)
    first = step_time(plan, comm)
    calls = comm.calls
    assert calls == len({need[:3] for need in plan.needs()})  # one call per group and algorithm
    again = step_time(plan, comm)
    assert comm.calls == calls and again.step_s == first.step_s


def test_layout_over_hbm_is_rejected_with_the_figure():
    inst = _dims_instance()
    gpt3 = read_model_named("gpt3-175b")
    layout = parse_layout_text("tp=4,pp=2,mb=1,gbs=16", 16)
    with pytest.raises(InfeasibleError, match=r"hbm: needs [\d,.]+ GB per chip, the chip has 144 GB"):
        train(inst, gpt3, layout)
    result = evaluate(gpt3, layout, inst.chip, DEFAULT_EFFICIENCY, FreeComm(), 16)
    assert result.kind == "hbm"
    need = sum(v for k, v in plan_step(gpt3, layout, inst.chip, DEFAULT_EFFICIENCY).hbm_bytes.items() if k != "total")
    assert need > 144e9 and f"{need / 1e9:,.1f} GB" in result.reason


def test_zero_shards_the_optimizer_states():
    chip = _chip()
    base = plan_step(GPT, Layout(2, 2, 4), chip, FLAT).hbm_bytes
    zero1 = plan_step(GPT, Layout(2, 2, 4, zero=1), chip, FLAT).hbm_bytes
    zero3 = plan_step(GPT, Layout(2, 2, 4, zero=3), chip, FLAT).hbm_bytes
    assert zero1["optimizer"] == pytest.approx(base["optimizer"] / 4)
    assert zero1["weights"] == base["weights"] and zero3["weights"] == pytest.approx(base["weights"] / 4)
    assert base["weights"] == pytest.approx(2 * GPT.params / 4)


def test_search_best_is_the_exhaustive_best():
    inst = _dims_instance()
    graph = build_fabric(inst)
    pruned = search(GPT, inst.chip, DEFAULT_EFFICIENCY, ScorerTimes(graph, 16), 16, 4, SearchSpace(top=3))
    full = search(GPT, inst.chip, DEFAULT_EFFICIENCY, ScorerTimes(graph, 16), 16, 4, SearchSpace(top=10**6))
    def key(r):
        return per_target_s(r, GPT)

    assert [key(r) for r in pruned.ranked[:3]] == [key(r) for r in full.ranked[:3]]
    assert [key(r) for r in full.ranked] == sorted(key(r) for r in full.ranked)
    third = key(pruned.ranked[2])
    for r in pruned.rejected:
        if r.kind == "bound":
            assert key(evaluate(GPT, r.layout, inst.chip, DEFAULT_EFFICIENCY, FreeComm(), 16)) >= third
    assert len(pruned.ranked) < len(full.ranked)


def test_shipped_models_match_their_published_sizes():
    sizes = {"gpt3-175b": 174.6e9, "megatron-1t": 1008.0e9, "llama3-405b": 405e9, "deepseek-v3-671b": 671e9}
    for name, params in sizes.items():
        assert read_model_named(name).params == pytest.approx(params, rel=0.01)
    assert read_model_named("deepseek-v3-671b").moe_layers == 58


@pytest.mark.parametrize(("change", "where", "message"), [
    ({"layers": 0}, "layers", "must be a whole number between 1 and"),
    ({"hidden": float("inf")}, "hidden", "must be a whole number between 1 and"),
    ({"hidden": 1e9}, "hidden", "must be a whole number between 1 and"),
    ({"heads": 7}, "heads", "must divide hidden"),
    ({"dtype": "fp4"}, "dtype", "unknown dtype"),
    ({"top_k": 2}, "top_k", "mixture-of-experts"),
    ({"experts": 8, "top_k": 9, "expert_ffn_hidden": 64}, "top_k", "must be 1 to experts"),
    ({"sources": []}, "sources", "at least one source"),
    ({"hiden": 5}, "hiden", "did you mean 'hidden'"),
])
def test_model_errors_name_the_field(change, where, message):
    raw = {**yaml.safe_load(open("instances/models/gpt3-175b.yaml")), **change}
    with pytest.raises(InstanceError, match=message) as info:
        model_from_mapping(raw, "m.yaml")
    assert info.value.field == where


def test_cli_train_layout_json_and_errors(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["train", "instances/ubmesh-rack64.yaml", "--model", "gpt3-175b",
                              "--layout", "tp=8,pp=8,sp=8,gbs=64,recompute=full,zero=1", "--json",
                              "--plot", str(tmp_path / "b.png")])
    assert ok.exit_code == 0, ok.output
    record = json.loads(ok.output)["layout"]
    assert record["step_s"] == pytest.approx(sum(record["breakdown_s"].values()))
    assert (tmp_path / "b.png").stat().st_size > 0
    over = runner.invoke(main, ["train", "instances/ubmesh-rack64.yaml", "--model", "gpt3-175b",
                                "--layout", "tp=8,pp=1,gbs=64"])
    assert over.exit_code == 3 and over.output.startswith("error: layout") and "GB per chip" in over.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayers: 2\nhidden: -4\n")
    for args, field in ((["--model", str(bad)], "hidden"), (["--model", "gpt3-175b", "--layout", "tp=8,pp=x"],
                                                             "layout.pp"),
                        (["--model", "nope"], "--model")):
        res = runner.invoke(main, ["train", "instances/ubmesh-rack64.yaml", *args])
        assert res.exit_code == 2 and res.output.count("\n") == 1 and field in res.output, res.output


def test_megatron_validation_fits_on_half_and_matches_the_shipped_constant():
    result = validate(read_instance("instances/selene-dgx-a100.yaml"))
    assert sum(r["fit"] for r in result["rows"]) == len(FIT_ROWS) <= len(TABLE1) / 2
    assert result["max_fraction"] == pytest.approx(DEFAULT_EFFICIENCY.max_fraction, abs=0.002)
    assert result["held_out_mean_abs_error"] < 0.1
