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

import jsonschema
import networkx as nx
import yaml

from topo_opt.errors import InstanceError
from topo_opt.instance import Instance, instance_from_mapping
from topo_opt.training.model import ModelSpec, model_from_mapping

_UMASK = os.umask(0o022)
os.umask(_UMASK)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key (a list); construct_mapping names it
                continue
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first.line + 1})", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_model(path: str | os.PathLike) -> ModelSpec:
    """Load and validate a model description (`instances/models/*.yaml`) for `train`."""
    return model_from_mapping(read_yaml(path, "a model file"), str(path))


_SHIPPED_MODELS = Path(__file__).resolve().parents[1] / "instances" / "models"


def read_model_named(name_or_path: str) -> ModelSpec:
    """A model file by path, or a shipped model by name (`instances/models/NAME.yaml`)."""
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        return read_model(name_or_path)
    path = _SHIPPED_MODELS / f"{name_or_path}.yaml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in _SHIPPED_MODELS.glob("*.yaml"))) or "none found"
        raise InstanceError("--model", "", f"no model file or shipped model {name_or_path!r} (shipped: {shipped})")
    return read_model(path)


def _read_text(file: str, what: str) -> str:
    """A UTF-8 text file; a missing, unreadable or non-UTF-8 file is one InstanceError line."""
    try:
        return Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError(file, "", "no such file") from None
    except IsADirectoryError:
        raise InstanceError(file, "", f"is a directory, not {what}") from None
    except UnicodeDecodeError as exc:
        raise InstanceError(file, "", f"is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise InstanceError(file, "", f"cannot read: {exc.strerror or exc}") from None


def read_instance(path: str | os.PathLike) -> Instance:
    """Load and validate an instance YAML file; every problem becomes an InstanceError."""
    return instance_from_mapping(read_yaml(path, "an instance file"), str(path))


def read_yaml(path: str | os.PathLike, what: str = "a YAML file") -> Any:
    """A YAML document (an instance, a failure scenario); unreadable or malformed files and
    duplicate keys become InstanceError."""
    file = str(path)
    text = _read_text(file, what)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InstanceError(file, "", f"malformed YAML: {where}{problem}") from None


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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a directory" if blocker else (exc.strerror or str(exc))
        raise InstanceError(str(target), "", f"cannot write: {why}") from None
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


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number (numbers must be finite)")


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file; NaN and Infinity (which Python's json accepts) are refused like malformed JSON."""
    file = str(path)
    text = _read_text(file, "a JSON file")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InstanceError(file, "", f"malformed JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise InstanceError(file, "", f"malformed JSON: {str(exc) or 'nested too deeply'}") from None


def result_schema_errors(result: Any) -> list[str]:
    """Violations of the shipped result JSON Schema as `path: message`, first in document order."""
    validator = jsonschema.Draft202012Validator(read_result_schema())
    errors = sorted(validator.iter_errors(result), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {_short(e.message)}" for e in errors]


def _short(message: str, limit: int = 160) -> str:
    """jsonschema quotes whole offending values; keep the error to one readable line."""
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def read_result(path: str | os.PathLike, schema_version: str) -> dict:
    """A result file checked against the shipped schema and its version; the first violation is
    one InstanceError naming the field."""
    file = str(path)
    data = read_json(file)
    if not isinstance(data, dict) or "schema_version" not in data:
        raise InstanceError(file, "schema_version", "missing: not a topo-opt result file (run `topo-opt solve`)")
    if data["schema_version"] != schema_version:
        raise InstanceError(file, "schema_version", f"is {_short(repr(data['schema_version']), 40)}; this tool "
                                                    f"reads {schema_version!r} (re-run `topo-opt solve`)")
    errors = result_schema_errors(data)
    if errors:
        where, _, message = errors[0].partition(": ")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InstanceError(file, where, message + more)
    return data


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


def read_json_if_valid(path: str | os.PathLike) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (a cache miss)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_search_schema() -> dict:
    """The JSON Schema of search.json files (`topo-opt optimize`), shipped inside the package."""
    return json.loads(resources.files("topo_opt").joinpath("search_schema.json").read_text(encoding="utf-8"))


def write_astra_sim(directory: str | os.PathLike, network: dict, system: dict, notes: tuple[str, ...]) -> list[Path]:
    """network.yml and system.json (each atomic) in `directory`; notes ride as YAML comments."""
    out = Path(directory)
    header = "".join(f"# {line}\n" for line in ("written by topo-opt for ASTRA-sim's analytical backend",
                                                  *notes))
    body = "".join(f"{key}: [ {', '.join(str(v) for v in values)} ]\n" for key, values in network.items())
    return [_write_atomic(out / "network.yml", (header + body).encode("utf-8")),
            write_json_atomic(out / "system.json", system)]

