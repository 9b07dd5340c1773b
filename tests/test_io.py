"""Atomic writes: a failure mid-write leaves the old file intact and no temp file behind."""

import os

import pytest

from topo_opt import io


def test_failure_mid_write_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    io.write_json_atomic(target, {"v": 1})
    real_fsync = os.fsync

    def crash(fd):  # the payload is in the temp file, not yet renamed over the target
        real_fsync(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        io.write_json_atomic(target, {"v": 2, "big": list(range(10000))})
    assert io.read_json(target) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_unserialisable_data_writes_nothing(tmp_path):
    target = tmp_path / "r.json"
    with pytest.raises(TypeError):
        io.write_json_atomic(target, {"v": object()})
    assert list(tmp_path.iterdir()) == []


def test_existing_result_instance(tmp_path):
    path = tmp_path / "r.json"
    assert io.existing_result_instance(path) is None
    io.write_json_atomic(path, {"instance": {"name": "a"}})
    assert io.existing_result_instance(path) == "a"
    path.write_text("not json")
    assert io.existing_result_instance(path) is None


def test_result_schema_ships_with_the_package():
    schema = io.read_result_schema()
    assert schema["properties"]["schema_version"]["const"] == "1.0"
