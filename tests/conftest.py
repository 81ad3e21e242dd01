"""Shared fixtures only; the helpers they use live in tests/harness.py and tests/testdata.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gslb.geo.database import GeoDatabase
from gslb.zones.loader import load_zone_file
from gslb.zones.model import Zone
from tests import steering_zone
from tests.backends import free_port
from tests.harness import RunningServer, start_server
from tests.redis_server import RedisServer
from tests.testdata import EXAMPLE_ZONES, built_test_geodb


@pytest.fixture(scope="module")
def steer_zone(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    """tests/steering_zone.py loaded: a zone with every steering method."""
    path = tmp_path_factory.mktemp("steer") / "steer.test.yaml"
    path.write_text(steering_zone.TEXT)
    return load_zone_file(path)


@pytest.fixture(scope="module")
def test_geo() -> GeoDatabase:
    """The small test geo database (geodb/test-city.csv), opened."""
    return GeoDatabase.open(str(built_test_geodb()))


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The server on the example zone in zones/, with an NSID."""
    workdir = tmp_path_factory.mktemp("example")
    server = start_server(workdir, EXAMPLE_ZONES, {"dns": {"nsid": "ns-test-1"}})
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of its own for this test (see tests/redis_server.py)."""
    server = RedisServer(tmp_path / "redis", free_port(["127.0.0.1"]))
    server.start()
    yield server
    server.stop()
