"""Files for other tools, so a user can run the same collective in both.

**ASTRA-sim** (analytical network backend; field names as in the astra-sim/astra-sim repository's
`examples/network/analytical/*.yml` and `examples/system/native_collectives/*.json`):

- network YAML: `topology` (one of Ring, FullyConnected, Switch per dimension), `npus_count`
  (chips per dimension, innermost first: ASTRA-sim numbers NPUs with dimension 0 fastest, as
  our chip coordinates do), `bandwidth` (GB/s of one link, one direction) and `latency` (ns of
  one hop; a switch dimension's whole chip-to-chip path);
- system JSON: the per-dimension implementations of `hierarchical` (ring on a ring, direct on a
  full mesh or switch) for all-reduce, all-gather and reduce-scatter, direct for all-to-all,
  and the scheduling fields with the values of ASTRA-sim's examples (`scheduling-policy` LIFO,
  `endpoint-delay` 10, `active-chunks-per-dimension` 1, `collective-optimization`
  localBWAware, `local-mem-bw` 1600, `boost-mode` 0), except `preferred-dataset-splits` 1:
  one chunk, as our non-pipelined schedules.

Only product fabrics map: `dims`, untwisted tori and UB-Mesh. What does not carry over is
listed in `notes`: a virtual dimension (UB-Mesh's rack LRS) is left out; a switch network
standing for a switch (UB-Mesh's HRS Clos) becomes one Switch dimension; lane bundles become
their summed bandwidth.
"""

from dataclasses import dataclass

from topo_opt.errors import InstanceError
from topo_opt.families.base import Fabric

ASTRA_TOPOLOGY = {"ring": "Ring", "full-mesh": "FullyConnected", "switch": "Switch"}
ASTRA_IMPLEMENTATION = {"ring": "ring", "full-mesh": "direct", "switch": "direct"}
_SYSTEM_DEFAULTS = {"scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
                    "preferred-dataset-splits": 1}
_SYSTEM_TAIL = {"collective-optimization": "localBWAware", "local-mem-bw": 1600, "boost-mode": 0}


@dataclass(frozen=True)
class AstraSimConfig:
    network: dict
    system: dict
    notes: tuple[str, ...]


def astra_sim_config(fabric: Fabric, where: str) -> AstraSimConfig:
    """The network and system configuration of a product fabric; InstanceError when it has none."""
    desc = fabric.desc
    if not desc.dims or desc.twisted:
        raise InstanceError(where, "fabric.family",
                            f"a {desc.family} fabric{' (twisted)' if desc.twisted else ''} is not a product of "
                            "ring, full-mesh and switch dimensions: ASTRA-sim's analytical backend cannot "
                            "describe it")
    dims = [d for d in desc.dims if d.size > 1]
    notes = [f"virtual dimension {d.name!r} ({d.shape} over {d.size} chips) left out: ASTRA-sim has no "
             "dimension that only some schedules use" for d in desc.extras]
    notes += [f"dimension {d.name!r} is a switch network ({', '.join(d.kinds)}) exported as one Switch"
              for d in dims if d.shape == "switch" and len(d.kinds) > 1]
    network = {"topology": [ASTRA_TOPOLOGY[d.shape] for d in dims],
               "npus_count": [d.size for d in dims],
               "bandwidth": [float(d.bandwidth_GBps) for d in dims],
               "latency": [float(d.latency_ns) for d in dims]}
    impl = [ASTRA_IMPLEMENTATION[d.shape] for d in dims]
    system = {**_SYSTEM_DEFAULTS,
              "all-reduce-implementation": impl, "all-gather-implementation": impl,
              "reduce-scatter-implementation": impl, "all-to-all-implementation": ["direct"] * len(dims),
              **_SYSTEM_TAIL}
    return AstraSimConfig(network, system, tuple(notes))
