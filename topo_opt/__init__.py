"""topo_opt: fabrics, placement, provisioning and collective scoring for AI superclusters."""

__version__ = "0.1.0"
