"""The families `optimize` can search: those whose registry entry has a design space
(`families.base.FamilySpace`, defined in each family's module)."""

from topo_opt.families import FAMILIES
from topo_opt.families.base import FamilySpace

DEFAULT_SPACES: dict[str, FamilySpace] = {name: f.search for name, f in FAMILIES.items() if f.search is not None}
