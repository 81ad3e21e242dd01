"""Build a GeoIP2-City-compatible .mmdb from a CSV, for tests and for private address plans.

The CSV header is exactly `network,country,subdivision,continent,latitude,longitude,city`
and values are written the way MaxMind stores them (`US`, `CA`, `NA`), so the result
reads like a GeoIP2 City file to every reader: ours, geoip2, libmaxminddb (gdnsd,
PowerDNS). IPv4 is stored IPv4-compatible (::a.b.c.d) in an IPv6 tree, as MaxMind does.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from gslb.geo.errors import GeoCsvError, GeoDatabaseError
from gslb.geo.subdivisions import CONTINENT_BY_CODE, country_name, subdivision_name

COLUMNS = ("network", "country", "subdivision", "continent", "latitude", "longitude", "city")
DATABASE_TYPE = "GeoIP2-City"


@dataclass(frozen=True, slots=True)
class _Row:
    """One valid CSV row: a network and the GeoIP2 City record that describes it."""

    network: IPv4Network | IPv6Network
    record: dict[str, Any]


def build_database(csv_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> int:
    """Write `out_path` from `csv_path`; returns the number of networks written.

    Every problem in the CSV is reported at once, in a GeoCsvError. The file is written
    under a temporary name and renamed, so a server never opens half a database.
    """
    rows = _read_rows(csv_path)
    writer = _new_writer(f"gslb geo database built from {Path(csv_path).name}")
    ip_set = _ip_set_class()
    # Wider networks first: mmdb-writer carves a later, more specific network out of an
    # earlier one, but a later wider network would overwrite the specific one.
    for row in sorted(rows, key=lambda row: _depth(row.network)):
        writer.insert_network(ip_set([str(row.network)]), row.record)
    temporary = f"{os.fspath(out_path)}.tmp"
    writer.to_db_file(temporary)
    os.replace(temporary, out_path)
    return len(rows)


def _read_rows(csv_path: str | os.PathLike[str]) -> list[_Row]:
    """Parse and validate the whole CSV; GeoCsvError lists every bad cell."""
    name = os.fspath(csv_path)
    problems: list[str] = []
    rows: list[_Row] = []
    first_line: dict[IPv4Network | IPv6Network, int] = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as file:  # -sig: spreadsheet exports
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or tuple(cell.strip() for cell in header) != COLUMNS:
            raise GeoCsvError([f"{name}:1: header: expected '{','.join(COLUMNS)}'"])
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            found: list[str] = []
            row = _parse_row(cells, found)
            problems.extend(f"{name}:{line}: {problem}" for problem in found)
            if row is None:
                continue
            if row.network in first_line:
                problems.append(f"{name}:{line}: network: {row.network} is already on line {first_line[row.network]}")
                continue
            first_line[row.network] = line
            rows.append(row)
    if problems:
        raise GeoCsvError(problems)
    return rows


def _parse_row(cells: list[str], problems: list[str]) -> _Row | None:
    """A row, or None with `problems` filled in as `column: message`."""
    if len(cells) != len(COLUMNS):
        problems.append(f"row: expected {len(COLUMNS)} columns, got {len(cells)}")
        return None
    text = dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))
    network = _network(text["network"], problems)
    country = text["country"]
    if not country_name(country):
        problems.append(f"country: unknown country code '{country}'")
    subdivision = f"{country}-{text['subdivision']}" if text["subdivision"] else None
    if subdivision and country_name(country) and not subdivision_name(subdivision):
        problems.append(f"subdivision: unknown subdivision '{subdivision}'")
    continent = text["continent"]
    if continent not in CONTINENT_BY_CODE:
        expected = ", ".join(CONTINENT_BY_CODE)
        problems.append(f"continent: unknown continent code '{continent}' (expected one of {expected})")
    latitude = _coordinate(text, "latitude", 90, problems)
    longitude = _coordinate(text, "longitude", 180, problems)
    if bool(text["latitude"]) != bool(text["longitude"]):
        empty, given = ("latitude", "longitude") if not text["latitude"] else ("longitude", "latitude")
        problems.append(f"{empty}: empty while {given} is given (give both or neither)")
    if problems or network is None:
        return None
    record = _record(country, subdivision, continent, latitude, longitude, text["city"])
    return _Row(network, record)


def _network(text: str, problems: list[str]) -> IPv4Network | IPv6Network | None:
    try:
        return ip_network(text)
    except ValueError as err:  # "'x' does not appear to be ...", "... has host bits set"
        problems.append(f"network: {err}")
        return None


def _coordinate(text: dict[str, str], column: str, bound: int, problems: list[str]) -> float | None:
    if not text[column]:
        return None
    try:
        value = float(text[column])
    except ValueError:
        problems.append(f"{column}: '{text[column]}' is not a number")
        return None
    if not -bound <= value <= bound:
        problems.append(f"{column}: {text[column]} is out of range [-{bound}, {bound}]")
        return None
    return value


def _record(
    country: str,
    subdivision: str | None,
    continent: str,
    latitude: float | None,
    longitude: float | None,
    city: str,
) -> dict[str, Any]:
    """A GeoIP2 City record, with only the fields gslb and common readers use."""
    continent_title = CONTINENT_BY_CODE[continent].replace("-", " ").title()
    record: dict[str, Any] = {
        "continent": {"code": continent, "names": {"en": continent_title}},
        "country": {"iso_code": country, "names": {"en": country_name(country)}},
    }
    if subdivision:
        iso_code = subdivision.split("-", 1)[1]
        record["subdivisions"] = [{"iso_code": iso_code, "names": {"en": subdivision_name(subdivision)}}]
    if city:
        record["city"] = {"names": {"en": city}}
    if latitude is not None and longitude is not None:
        record["location"] = {"latitude": latitude, "longitude": longitude}
    return record


def _depth(network: IPv4Network | IPv6Network) -> int:
    """Prefix length in the IPv6 tree, where IPv4 sits under ::/96."""
    return network.prefixlen + (96 if network.version == 4 else 0)


def _new_writer(description: str) -> Any:
    try:
        from mmdb_writer import MMDBWriter
    except ImportError as err:
        raise GeoDatabaseError(_MISSING_WRITER) from err
    return MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=DATABASE_TYPE,
        languages=["en"],
        description={"en": description},
    )


def _ip_set_class() -> Any:
    try:
        from netaddr import IPSet
    except ImportError as err:
        raise GeoDatabaseError(_MISSING_WRITER) from err
    return IPSet


_MISSING_WRITER = "building a geo database needs mmdb-writer: pip install 'gslb[test]' (or mmdb-writer)"
