"""Property-based bad-input suite: mutate the shipped instances and result files and run the CLI.

Every run must end in exit 0, 2 or 3; a failing run prints exactly one `error:` line on stderr, no
traceback, and writes no file. Mutations that put a non-finite, negative or out-of-range number
where a number was, a duplicate key or a non-UTF-8 byte must be refused (exit 2 or 3): never a
silent acceptance. The example counts come from the Hypothesis profile (tests/conftest.py):
`ci` in `make test`, `fuzz` (`make fuzz`, >= 2,000 cases) for the long run; both are derandomized.
"""

import copy
import json
import math
import pathlib
import re
import tempfile
import traceback

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from topo_opt.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTANCES = sorted((ROOT / "instances").glob("*.yaml"))
# instances small enough to build and score in a few milliseconds
BUILDABLE = {"ring16.yaml", "ubmesh-rack64.yaml"}
SCORABLE = {"ring16.yaml"}
RESULTS = [ROOT / "results" / f for f in ("ring16.json", "cloudmatrix384.json", "ubmesh-pod1024.json")]

# Mutations of a node of the document tree; the first five must be refused where a number was.
NUMERIC_BREAKERS = ("nan", "inf", "-inf", "negative", "huge", "huge_int")
OTHER = ("string", "list", "mapping", "bool", "null", "delete", "zero")
TEXT = ("duplicate_key", "latin1")  # on the file's text


def _paths(node, prefix=()):
    """Every node below the root, as a path of keys and indices."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield prefix + (key,)
        yield from _paths(child, prefix + (key,))


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _mutate(tree, path, kind):
    """A copy of `tree` with the node at `path` mutated; returns (tree, whether the old node was a number)."""
    tree = copy.deepcopy(tree)
    parent, key = _get(tree, path[:-1]), path[-1]
    old = parent[key]
    was_number = isinstance(old, int | float) and not isinstance(old, bool)
    new = {
        "nan": math.nan, "inf": math.inf, "-inf": -math.inf,
        "negative": -abs(old) - 1 if was_number else -1,
        "huge": 1e30, "huge_int": 10**15,
        "string": "abc", "list": [], "mapping": {"x": 1}, "bool": True, "null": None, "zero": 0,
    }.get(kind)
    if kind == "delete":
        del parent[key]
    else:
        parent[key] = new
    return tree, was_number


def _duplicate_key_line(text: str, index: int) -> str | None:
    """The text with one `key: ...` line repeated right after itself (a duplicate key in its mapping)."""
    lines = text.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*[A-Za-z_]\w*:", line)]
    if not keyed:
        return None
    i = keyed[index % len(keyed)]
    return "".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])


def _run(args: list[str]):
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"traceback for {args}:\n{tb}")
    return result


def _check_clean(result, args, written: list[pathlib.Path], must_refuse: bool) -> None:
    stderr = result.stderr
    assert "Traceback" not in stderr, (args, stderr)
    assert result.exit_code in (0, 2, 3), (args, result.exit_code, stderr, result.stdout)
    if must_refuse:
        assert result.exit_code in (2, 3), f"silently accepted: {args}\n{result.stdout[:500]}"
    if result.exit_code:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, stderr)
        for path in written:
            assert not path.exists(), f"{path} written by failing {args}"


def _load_yaml(path: pathlib.Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


INSTANCE_TREES = {p.name: (p.read_text(encoding="utf-8"), _load_yaml(p)) for p in INSTANCES}
RESULT_TREES = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in RESULTS}


@given(name=st.sampled_from(sorted(INSTANCE_TREES)), where=st.integers(min_value=0, max_value=10**6),
       kind=st.sampled_from(NUMERIC_BREAKERS + OTHER + TEXT))
def test_mutated_instance_is_refused_in_one_line(name, where, kind):
    text, tree = INSTANCE_TREES[name]
    must_refuse = kind in TEXT
    if kind == "duplicate_key":
        data = _duplicate_key_line(text, where).encode("utf-8")
    elif kind == "latin1":
        data = text.replace("name: ", "name: café-", 1).encode("latin-1")
    else:
        paths = list(_paths(tree))
        mutated, was_number = _mutate(tree, paths[where % len(paths)], kind)
        must_refuse = was_number and kind in NUMERIC_BREAKERS
        data = yaml.safe_dump(mutated, sort_keys=False, allow_unicode=True).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / name
        path.write_bytes(data)
        commands = [(["validate", str(path)], [])]
        if name in BUILDABLE:
            graph = pathlib.Path(tmp) / "graph.json"
            commands.append((["build", str(path), "--out", str(graph)], [graph]))
        if name in SCORABLE:
            commands.append((["score", str(path), "--size", "1MiB"], []))
        for args, written in commands:
            _check_clean(_run(args), args, written, must_refuse)


@given(name=st.sampled_from(sorted(RESULT_TREES)), where=st.integers(min_value=0, max_value=10**6),
       kind=st.sampled_from(NUMERIC_BREAKERS + OTHER + ("latin1",)), with_report=st.integers(0, 3))
def test_mutated_result_is_refused_in_one_line(name, where, kind, with_report):
    tree = RESULT_TREES[name]
    if kind == "latin1":
        data = json.dumps(tree).replace('"name": "', '"name": "café-', 1).encode("latin-1")
    else:
        paths = list(_paths(tree))
        mutated, _ = _mutate(tree, paths[where % len(paths)], kind)
        data = json.dumps(mutated).encode("utf-8")  # NaN and Infinity become JSON's non-standard tokens
    must_refuse = kind in ("nan", "inf", "-inf", "latin1")
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / name
        path.write_bytes(data)
        commands = [(["compare", str(path)], [])]
        if with_report == 0:  # a quarter of the cases: rendering figures takes a second
            out = pathlib.Path(tmp) / "report"
            commands.append((["report", str(path), "--out", str(out)], [out]))
        if name == "ring16.json":
            commands.append((["score", str(path), "--size", "1MiB"], []))
        for args, written in commands:
            _check_clean(_run(args), args, written, must_refuse)
