"""The committed results/*.json are what the code writes today: each passes the shipped schema and
the cross-checks reports rely on, and re-scoring its instance gives the same records (algorithm,
engine and time). A change to the scorer that moves a figure fails here until `make results`
re-solves the result it changes."""

import json
from pathlib import Path

import pytest

from topo_opt.io import read_instance
from topo_opt.pipeline import _scores, build, result_consistency_errors, result_errors

RESULTS = sorted(Path("results").glob("*.json"))
LARGE = 4096  # chips: re-scoring these takes seconds


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_result_is_valid(path: Path) -> None:
    result = _load(path)
    assert result_errors(result) == []
    assert result_consistency_errors(result) == []


@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.slow] if _load(p)["instance"]["chips"] > LARGE
                                               else [], id=p.stem) for p in RESULTS])
def test_scores_match_the_code(path: Path) -> None:
    result = _load(path)
    instance = read_instance(result["instance"]["path"])
    fabric, _ = build(instance)
    scores, _ = _scores(instance, fabric, lambda _: None)
    assert len(scores) == len(result["scores"])
    for old, new in zip(result["scores"], scores, strict=True):
        where = (old["collective"], old["size_bytes"])
        assert (new["algorithm"], new["engine"]) == (old["algorithm"], old["engine"]), where
        assert new["time_s"] == pytest.approx(old["time_s"], rel=1e-9), where
