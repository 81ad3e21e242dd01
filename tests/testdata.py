"""Where the tests' data lives: the repository, the example zones and the small test geo database."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ZONES = ROOT / "zones"
TEST_GEODB_CSV = ROOT / "geodb" / "test-city.csv"


@functools.cache
def built_test_geodb() -> Path:
    """The small test database, built once per test run from geodb/test-city.csv."""
    from gslb.geo.builder import build_database

    out = Path(tempfile.mkdtemp(prefix="gslb-geodb-")) / "test-city.mmdb"
    build_database(TEST_GEODB_CSV, out)
    return out
