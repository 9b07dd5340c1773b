"""Link provisioning: lanes per chip per dimension, cable bundles, switches per tier and the bill
of materials, sized so the workload's traffic is carried at the lowest cost and power."""

from topo_opt.provisioning.plan import Provisioning, bought_bundles, provision, provision_at_rate, provision_nominal

__all__ = ["Provisioning", "bought_bundles", "provision", "provision_at_rate", "provision_nominal"]
