"""The fabric families, one module each, and the registry every stage looks a family up in.

Adding a family: write `topo_opt/families/NAME.py` exporting `FAMILY` (see `base.Family`) and add
it to `FAMILIES` below; nothing else branches on family names.
"""

from topo_opt.families import clos, dims, dragonfly, hammingmesh, supercluster, torus, ub_mesh
from topo_opt.families.base import DimRecord, Fabric, FabricDesc, Family

FAMILIES: dict[str, Family] = {f.name: f for f in (
    dims.FAMILY, ub_mesh.FAMILY, clos.FAMILY, torus.FAMILY, dragonfly.FAMILY, hammingmesh.FAMILY,
    supercluster.FAMILY,
)}

__all__ = ["FAMILIES", "DimRecord", "Fabric", "FabricDesc", "Family"]
