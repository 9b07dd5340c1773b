import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@pytest.fixture
def instance_path():
    return lambda name: str(INSTANCES / f"{name}.yaml")
