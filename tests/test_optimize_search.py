"""`optimize` on the small shipped spec: the front against an independent enumeration, caps, the
recommendation, NSGA-II determinism, resume after a kill, process pool against Ray."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from topo_opt.cli import main
from topo_opt.optimize import RunOptions, load_spec, run_search, search_errors, strip_run, write_search
from topo_opt.optimize.candidates import all_candidates
from topo_opt.optimize.screen import screen
from topo_opt.optimize.search import SCREEN_OPTIONS
from topo_opt.pipeline import result_errors

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "search" / "small.yaml"


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("small")


@pytest.fixture(scope="module")
def small_search(small_dir):
    spec, sha = load_spec(str(SMALL))
    doc = run_search(spec, sha, small_dir, RunOptions(workers=2))
    write_search(small_dir, doc)
    return spec, doc


def non_dominated(ids: list[str], values: np.ndarray) -> set[str]:
    """Brute force over every pair, in numpy: i is dominated when some j is <= everywhere and < somewhere."""
    le = (values[:, None, :] <= values[None, :, :]).all(axis=2)  # le[j, i]: j <= i everywhere
    lt = (values[:, None, :] < values[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)
    return {i for i, d in zip(ids, dominated, strict=True) if not d}


def test_front_equals_enumeration(small_search):
    spec, doc = small_search
    assert doc["method"]["name"] == "exhaustive"
    # Independent of the search: screen every valid candidate directly, keep those within the caps.
    caps = [{"name": c.name, "objective": c.objective, "limit": c.limit} for c in spec.caps]
    objectives = {}
    for cand in all_candidates(spec):
        if cand.mapping is None:
            continue
        rec = screen({"id": cand.id, "family": cand.family, "params": cand.params, "mapping": cand.mapping,
                      "interconnect": spec.cabinets.get("interconnect"), "caps": caps, "options": SCREEN_OPTIONS})
        if rec["objectives"] and all(rec["objectives"][c["objective"]] <= c["limit"] for c in caps):
            objectives[rec["id"]] = rec["objectives"]
    keys = spec.search.objectives
    ids = sorted(objectives)
    expected = non_dominated(ids, np.array([[objectives[i][k] for k in keys] for i in ids]))
    assert len(expected) >= 3
    placed_out = {c["id"] for c in doc["candidates"] if c["finalist"] and c["finalist"]["status"] != "ok"}
    assert {p["id"] for p in doc["front"]} == expected - placed_out
    by_id = {c["id"]: c for c in doc["candidates"]}
    for i, o in objectives.items():
        assert by_id[i]["objectives"] == pytest.approx(o)
    assert doc["counts"]["families"] == ["clos", "dragonfly", "torus", "ub-mesh"]


def test_cap_rejection_names_the_cap(small_search):
    spec, doc = small_search
    limit = {c.objective: c.limit for c in spec.caps}
    over = [c for c in doc["candidates"]
            if c["objectives"] and c["objectives"]["total_power_kw"] > limit["total_power_kw"]]
    assert over, "the small spec should have a candidate over its total_power cap"
    for c in over:
        assert c["status"] == "rejected"
        assert "cap total_power" in c["reason"]
        excess = c["objectives"]["total_power_kw"] - limit["total_power_kw"]
        assert f"over by {excess:,.6g}" in c["reason"]
    for c in doc["candidates"]:
        if c["status"] == "ok":
            assert all(c["objectives"][k] <= v for k, v in limit.items())
        else:
            assert c["reason"]


def test_recommendation_rule(small_search):
    spec, doc = small_search
    rec, front = doc["recommendation"], doc["front"]
    fastest = min(p["objectives"]["comm_time_s"] for p in front)
    within = [p for p in front if p["objectives"]["comm_time_s"] <= fastest * (1 + spec.search.recommend_within)]
    cheapest = min(within, key=lambda p: (p["objectives"]["network_cost_usd"], p["id"]))
    assert rec["id"] == cheapest["id"]
    assert "within 5% of the fastest" in rec["reason"]
    assert rec["placed"]["status"] == "ok" and rec["placed"]["placement"]["status"] in ("OPTIMAL", "FEASIBLE")


def nsga_spec(tmp_path) -> pathlib.Path:
    raw = yaml.safe_load(SMALL.read_text())
    raw["space"]["ub-mesh"]["lanes_x"] = [16, 24]
    raw["space"]["torus"]["twist"] = [False, True]
    raw["search"].update(budget=10, batch=4, population=4, finalists=1)
    path = tmp_path / "nsga.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_nsga2_is_deterministic_for_a_seed(tmp_path):
    spec, sha = load_spec(str(nsga_spec(tmp_path)))
    docs = [run_search(spec, sha, tmp_path / f"run{i}", RunOptions(workers=w, seed=3))
            for i, w in enumerate((1, 2))]
    assert docs[0]["method"]["name"] == "nsga2"
    assert docs[0]["counts"]["screened"] == 10
    assert json.dumps(strip_run(docs[0])) == json.dumps(strip_run(docs[1]))
    other = run_search(spec, sha, tmp_path / "seed4", RunOptions(workers=1, seed=4))
    assert {c["id"] for c in other["candidates"]} != {c["id"] for c in docs[0]["candidates"]}


def test_resume_after_kill_evaluates_only_missing(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "topo_opt.cli", "optimize", str(SMALL), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = out / "cache"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("*.json"))) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "search.json").exists()
    cached = len(list(cache.glob("*.json")))
    assert cached >= 4
    spec, sha = load_spec(str(SMALL))
    resumed = run_search(spec, sha, out, RunOptions(workers=1, resume=True))
    fresh = run_search(spec, sha, tmp_path / "fresh", RunOptions(workers=1))
    total = fresh["run"]["evaluated"]
    assert resumed["run"]["from_cache"] == cached
    assert resumed["run"]["evaluated"] == total - cached
    assert json.dumps(strip_run(resumed)) == json.dumps(strip_run(fresh))


@pytest.mark.slow
def test_process_pool_and_ray_agree(tmp_path, small_search):
    ray = pytest.importorskip("ray", reason="Ray is the optional extra: pip install -e '.[ray]'")
    spec, sha = load_spec(str(SMALL))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_search(spec, sha, tmp_path / "ray", RunOptions(engine="ray", workers=2))
    finally:
        ray.shutdown()
    assert on_ray["run"]["engine"] == "ray"
    assert json.dumps(strip_run(on_ray)) == json.dumps(strip_run(small_search[1]))


def test_report_on_a_search(small_dir, small_search, tmp_path):
    _, doc = small_search
    result = CliRunner().invoke(main, ["report", str(small_dir), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "recommended/index.html" in page and doc["recommendation"]["id"] in page
    assert all(p["id"] in page for p in doc["front"])
    assert (tmp_path / "rep" / "pareto.png").stat().st_size > 10_000
    assert (tmp_path / "rep" / "recommended" / "index.html").exists()


@pytest.mark.parametrize("search", sorted((ROOT / "results" / "search").glob("*/search.json")),
                         ids=lambda p: p.parent.name)
def test_committed_searches_validate(search):
    doc = json.loads(search.read_text())
    assert search_errors(doc) == []
    rec = doc["recommendation"]
    assert rec is None or result_errors(json.loads((search.parent / rec["result"]).read_text())) == []
    assert all((search.parent / c["result"]).exists() for c in doc["candidates"] if c["result"])
