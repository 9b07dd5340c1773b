import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@pytest.fixture
def instance_path():
    return lambda name: str(INSTANCES / f"{name}.yaml")


# Hypothesis profiles (tests/test_fuzz.py): `ci` for `make test`, `fuzz` for `make fuzz`; both seeded
# (derandomize), so a run is repeatable. TOPO_OPT_HYPOTHESIS_PROFILE selects one.
settings.register_profile("ci", max_examples=120, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=1100, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("TOPO_OPT_HYPOTHESIS_PROFILE", "ci"))
