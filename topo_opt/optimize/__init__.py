"""`topo-opt optimize`: search a design space under a budget and recommend the fabric.

`load_spec(path)` reads and validates a search spec (spec.py); `run_search(spec, sha256, out_dir,
RunOptions(...))` screens the candidates (candidates.py, screen.py) on an engine (engines.py) through
the cache, derives the Pareto front and the recommendation (pareto.py) and returns the search.json
document (search.py), which `write_search` writes atomically.
"""

from pathlib import Path

from topo_opt.io import file_sha256, read_yaml, write_json_atomic
from topo_opt.optimize.search import RunOptions, run_search, search_errors, strip_run
from topo_opt.optimize.spec import SearchSpec, spec_from_mapping

SEARCH_ROOT = Path("results/search")

__all__ = ["RunOptions", "SearchSpec", "load_spec", "run_search", "search_errors", "strip_run", "write_search"]


def load_spec(path: str) -> tuple[SearchSpec, str]:
    """The validated spec and the sha256 of its file."""
    return spec_from_mapping(read_yaml(path, "a search spec"), str(path)), file_sha256(path)


def write_search(out_dir: Path, doc: dict) -> Path:
    return write_json_atomic(out_dir / "search.json", doc)
