"""Every file the tool reads or writes goes through here: instances, results (atomically), graphs."""

import base64
import hashlib
import json
import os
import tempfile
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from topo_opt.errors import InstanceError
from topo_opt.instance import Instance, instance_from_mapping

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def read_instance(path: str | os.PathLike) -> Instance:
    """Load and validate an instance YAML file; every problem becomes an InstanceError."""
    file = str(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError(file, "", "no such file") from None
    except IsADirectoryError:
        raise InstanceError(file, "", "is a directory, not an instance file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(file, "", f"cannot read: {exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InstanceError(file, "", f"malformed YAML: {where}{problem}") from None
    return instance_from_mapping(raw, file)


def file_sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """JSON written atomically (see `_write_atomic`), two-space indented, keys in insertion order."""
    return _write_atomic(Path(path), (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _write_atomic(target: Path, payload: bytes) -> Path:
    """Write to a temp file in the target directory, fsync, then rename over the target.

    A crash, Ctrl-C or SIGTERM at any point leaves either the old file or the new one, never a
    partial one, and no temp file behind (only SIGKILL can leave a hidden `.NAME.*.tmp`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a result is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_result_schema() -> dict:
    """The JSON Schema of result files, shipped inside the package."""
    return json.loads(resources.files("topo_opt").joinpath("result_schema.json").read_text(encoding="utf-8"))


def existing_result_instance(path: str | os.PathLike) -> str | None:
    """Instance name of an existing result file at `path`, or None when there is no readable result."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["instance"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return _write_atomic(Path(path), text.encode("utf-8"))


def png_data_uri(path: str | os.PathLike) -> str:
    """A PNG file as a data URI, so an HTML report is one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def read_json(path: str | os.PathLike) -> Any:
    file = str(path)
    try:
        return json.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstanceError(file, "", "no such file") from None
    except json.JSONDecodeError as exc:
        raise InstanceError(file, "", f"malformed JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def write_graph(path: str | os.PathLike, graph: nx.Graph) -> Path:
    """Node-link JSON for `.json`, GraphML for `.graphml`; written atomically like results."""
    target = Path(path)
    if target.suffix == ".graphml":
        return _write_atomic(target, b"".join(
            (line + "\n").encode("utf-8") for line in nx.generate_graphml(_graphml_safe(graph))))
    if target.suffix != ".json":
        raise InstanceError(str(path), "--out", "graph file must end in .json (node-link) or .graphml")
    return write_json_atomic(target, nx.node_link_data(graph, edges="links"))


def _graphml_safe(graph: nx.Graph) -> nx.Graph:
    """GraphML holds scalars only: tuples (coordinates) become strings, graph attributes are dropped."""
    flat = nx.Graph()
    for node, attrs in graph.nodes(data=True):
        flat.add_node(str(node), **{k: _scalar(v) for k, v in attrs.items()})
    for u, v, attrs in graph.edges(data=True):
        flat.add_edge(str(u), str(v), **{k: _scalar(x) for k, x in attrs.items()})
    return flat


def _scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


def write_figure(path: str | os.PathLike, figure: Any, dpi: int = 120) -> Path:
    """Save a matplotlib figure (format from the suffix, e.g. .png) atomically, like results."""
    target = Path(path)
    buffer = BytesIO()
    figure.savefig(buffer, format=target.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    return _write_atomic(target, buffer.getvalue())


def write_astra_sim(directory: str | os.PathLike, network: dict, system: dict, notes: tuple[str, ...]) -> list[Path]:
    """network.yml and system.json (each atomic) in `directory`; notes ride as YAML comments."""
    out = Path(directory)
    header = "".join(f"# {line}\n" for line in ("written by topo-opt for ASTRA-sim's analytical backend",
                                                  *notes))
    body = "".join(f"{key}: [ {', '.join(str(v) for v in values)} ]\n" for key, values in network.items())
    return [_write_atomic(out / "network.yml", (header + body).encode("utf-8")),
            write_json_atomic(out / "system.json", system)]
