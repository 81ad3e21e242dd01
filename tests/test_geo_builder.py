"""`build_database`: CSV in, GeoIP2-City-compatible mmdb out, every CSV problem reported exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import geoip2.database
import pytest

from gslb.geo import GeoCsvError, GeoDatabase, GeoDatabaseError, GeoLocation, build_database

HEADER = "network,country,subdivision,continent,latitude,longitude,city\n"
TEST_CSV = Path(__file__).resolve().parent.parent / "geodb" / "test-city.csv"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "source.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _problems(csv_path: Path, tmp_path: Path) -> list[str]:
    with pytest.raises(GeoCsvError) as caught:
        build_database(csv_path, tmp_path / "out.mmdb")
    assert not (tmp_path / "out.mmdb").exists()
    return caught.value.problems


def test_builds_the_test_database_readable_by_geoip2(tmp_path: Path) -> None:
    out = tmp_path / "test-city.mmdb"
    assert build_database(TEST_CSV, out) == 20
    assert [path.name for path in tmp_path.iterdir()] == ["test-city.mmdb"]  # no temporary left behind
    with geoip2.database.Reader(str(out)) as reader:
        city = reader.city("127.2.0.1")
        assert city.country.iso_code == "DE"
        assert city.country.name == "Germany"
        assert city.subdivisions.most_specific.iso_code == "HE"
        assert city.continent.code == "EU"
        assert city.continent.name == "Europe"
        assert city.city.name == "Frankfurt am Main"
        assert (city.location.latitude, city.location.longitude) == (50.11, 8.68)
        assert reader.city("127.8.0.1").continent.name == "Africa"


def test_more_specific_rows_may_come_first(tmp_path: Path) -> None:
    source = _csv(tmp_path, "127.11.5.0/24,KR,11,AS,37.57,126.98,Seoul\n127.11.0.0/16,US,,NA,,,\n")
    build_database(source, tmp_path / "out.mmdb")
    with GeoDatabase.open(str(tmp_path / "out.mmdb")) as database:
        assert database.lookup("127.11.5.1")[0] == GeoLocation("KR", "KR-11", "asia", 37.57, 126.98, "Seoul")
        assert database.lookup("127.11.4.1")[0] == GeoLocation("US", None, "north-america")


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mmdb"
    out.write_bytes(b"old")
    build_database(_csv(tmp_path, "127.1.0.0/16,KR,,AS,,,\n"), out)
    with GeoDatabase.open(str(out)) as database:
        assert database.lookup("127.1.0.1")[0] == GeoLocation("KR", continent="asia")


def test_header_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    source = _csv(tmp_path, "127.1.0.0/16,KR,,AS,,,\n", header="\ufeff" + HEADER)
    assert build_database(source, tmp_path / "out.mmdb") == 1


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    assert build_database(_csv(tmp_path, "\n127.1.0.0/16,KR,,AS,,,\n\n"), tmp_path / "out.mmdb") == 1


def test_every_problem_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    source = _csv(
        tmp_path,
        "127.1.0.1/16,KR,11,AS,37.57,126.98,Seoul\n"
        "nonsense,KR,11,AS,37.57,126.98,Seoul\n"
        "127.2.0.0/16,XX,,EU,50,8,Nowhere\n"
        "127.3.0.0/16,US,ZZ,NA,38.95,-77.45,Ashburn\n"
        "127.4.0.0/16,NA,KH,NM,-22.56,17.08,Windhoek\n"
        "127.5.0.0/16,JP,13,AS,95,139.69,Tokyo\n"
        "127.6.0.0/16,BR,SP,SA,-23.55,-200,Sao Paulo\n"
        "127.7.0.0/16,AU,NSW,OC,north,151.21,Sydney\n"
        "127.8.0.0/16,FR,IDF,EU,48.86,,Paris\n"
        "127.9.0.0/16,FR,IDF,EU\n"
        "127.1.0.0/16,KR,11,AS,37.57,126.98,Seoul\n"
        "127.1.0.0/16,KR,11,AS,37.57,126.98,Seoul\n",
    )
    name = str(source)
    assert _problems(source, tmp_path) == [
        f"{name}:2: network: 127.1.0.1/16 has host bits set",
        f"{name}:3: network: 'nonsense' does not appear to be an IPv4 or IPv6 network",
        f"{name}:4: country: unknown country code 'XX'",
        f"{name}:5: subdivision: unknown subdivision 'US-ZZ'",
        f"{name}:6: continent: unknown continent code 'NM' (expected one of AF, AN, AS, EU, NA, OC, SA)",
        f"{name}:7: latitude: 95 is out of range [-90, 90]",
        f"{name}:8: longitude: -200 is out of range [-180, 180]",
        f"{name}:9: latitude: 'north' is not a number",
        f"{name}:10: longitude: empty while latitude is given (give both or neither)",
        f"{name}:11: row: expected 7 columns, got 4",
        f"{name}:13: network: 127.1.0.0/16 is already on line 12",
    ]


def test_error_message_joins_problems(tmp_path: Path) -> None:
    source = _csv(tmp_path, "127.1.0.0/16,KR,11,XX,,,\n127.2.0.0/16,DE,,EU,nan,8,\n")
    with pytest.raises(GeoCsvError) as caught:
        build_database(source, tmp_path / "out.mmdb")
    assert str(caught.value) == (
        f"{source}:2: continent: unknown continent code 'XX' (expected one of AF, AN, AS, EU, NA, OC, SA)\n"
        f"{source}:3: latitude: nan is out of range [-90, 90]"
    )


@pytest.mark.parametrize("header", ["", "network,country,region,continent,latitude,longitude,city\n"])
def test_header_must_be_exact(tmp_path: Path, header: str) -> None:
    source = _csv(tmp_path, "127.1.0.0/16,KR,,AS,,,\n" if header else "", header=header)
    assert _problems(source, tmp_path) == [
        f"{source}:1: header: expected 'network,country,subdivision,continent,latitude,longitude,city'"
    ]


def test_needs_mmdb_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mmdb_writer", None)
    with pytest.raises(GeoDatabaseError, match="building a geo database needs mmdb-writer"):
        build_database(_csv(tmp_path, "127.1.0.0/16,KR,,AS,,,\n"), tmp_path / "out.mmdb")
