"""Every `topo-opt ...` command in the README's ```sh blocks runs as written, in a temporary copy of the
repository's instances and results, and exits as the README says: 0 unless its comment says
`exit N`. A block preceded by `<!-- illustrative -->` is skipped. Commands whose solver runs for
30 s or more are marked slow."""

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def readme_commands(text: str) -> list[tuple[int, str, int]]:
    """(line number, command, expected exit code) of every topo-opt command outside illustrative blocks."""
    out = []
    for block in FENCE.finditer(text):
        before = text[: block.start()].rstrip().splitlines()
        if before and before[-1].strip() == "<!-- illustrative -->":
            continue
        first_line = text[: block.start(1)].count("\n") + 1
        for offset, line in enumerate(block.group(1).splitlines()):
            command = line.removeprefix("$ ").strip()
            if not command.startswith("topo-opt "):
                continue
            code = re.search(r"#.*\bexit (\d+)", command)
            out.append((first_line + offset, command, int(code.group(1)) if code else 0))
    return out


COMMANDS = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def _slow(command: str) -> bool:
    limit = re.search(r"--time-limit (\d+)", command)
    return command.startswith("topo-opt solve ") or bool(limit and int(limit.group(1)) >= 30)


def test_readme_has_commands_and_they_parse():
    assert len(COMMANDS) >= 15
    assert readme_commands("```sh\n$ topo-opt place x.yaml   # infeasible: exit 3\n```\n") == [
        (2, "topo-opt place x.yaml   # infeasible: exit 3", 3)]
    assert readme_commands("<!-- illustrative -->\n```sh\n$ topo-opt validate x.yaml\n```\n") == []


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("instances", "results"):
            shutil.copytree(ROOT / part, Path(tmp) / part, ignore=shutil.ignore_patterns("*-report", "run"))
        yield Path(tmp)


@pytest.mark.parametrize(
    "line, command, expected",
    [pytest.param(*c, marks=[pytest.mark.slow] if _slow(c[1]) else [], id=f"README:{c[0]}") for c in COMMANDS],
)
def test_readme_command_runs_as_written(workdir, line, command, expected):
    args = shlex.split(command, comments=True)[1:]
    proc = subprocess.run([sys.executable, "-m", "topo_opt.cli", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == expected, f"README line {line}: {command}\n{proc.stderr[-2000:]}"
    if expected:
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: "), proc.stderr
