"""ISO codes for zone keys, and mapping database subdivisions (MaxMind codes, DB-IP names) to them."""

from __future__ import annotations

import pycountry
import pytest

from gslb.geo import (
    CONTINENTS,
    GeoLocation,
    continent_name,
    is_country_code,
    is_subdivision_code,
    location_from_record,
    subdivision_code,
)
from gslb.geo.subdivision_aliases import ALIASES


def test_maxmind_style_codes() -> None:
    assert subdivision_code("US", iso_code="CA") == "US-CA"
    assert subdivision_code("GB", iso_code="ENG") == "GB-ENG"
    assert subdivision_code("KR", iso_code="11") == "KR-11"
    assert subdivision_code("US", iso_code="ca") == "US-CA"
    assert subdivision_code("US", iso_code="C-A") is None


def test_code_wins_over_name() -> None:
    assert subdivision_code("US", iso_code="VA", name="California") == "US-VA"


@pytest.mark.parametrize(
    ("country", "name", "code"),
    [
        ("US", "California", "US-CA"),  # the ISO name
        ("US", "california", "US-CA"),  # any case
        ("KR", "Gyeonggi-do", "KR-41"),
        ("KR", "Seoul", "KR-11"),  # ISO: Seoul-teukbyeolsi
        ("KR", "Busan", "KR-26"),  # ISO: Busan-gwangyeoksi
        ("DE", "Hesse", "DE-HE"),  # ISO: Hessen, a close spelling
        ("DE", "Bavaria", "DE-BY"),  # pycountry's English translation of Bayern
        ("DE", "North Rhine-Westphalia", "DE-NW"),  # an alias
        ("FR", "Île-de-France", "FR-IDF"),
        ("FR", "ILE DE FRANCE", "FR-IDF"),  # diacritics and punctuation
        ("BR", "Sao Paulo", "BR-SP"),
        ("JP", "Ōsaka", "JP-27"),
        ("CN", "Beijing", "CN-BJ"),  # ISO: Beijing Shi
        ("ES", "Madrid", "ES-MD"),  # the community (top level), not the province ES-M
        ("SE", "Stockholm", "SE-AB"),  # ISO: Stockholms lan, a unique prefix
        ("RU", "Sverdlovsk Oblast", "RU-SVE"),  # ISO: Sverdlovskaya oblast'
        ("RU", "Sakha", "RU-SA"),  # not Sakhalinskaya (RU-SAK)
        ("NA", "Khomas", "NA-KH"),  # Namibia
        ("MT", "St. Julian", "MT-48"),  # "St." is "Saint"
    ],
)
def test_db_ip_style_names(country: str, name: str, code: str) -> None:
    assert subdivision_code(country, name=name) == code


@pytest.mark.parametrize(
    ("country", "name"),
    [
        ("US", "Atlantis"),
        ("ZZ", "Anywhere"),
        ("HK", "Wan Chai"),  # a country without subdivisions in ISO 3166-2
        ("TW", "Hsinchu"),  # county TW-HSQ and city TW-HSZ: never guess between two
        ("FR", "Cayenne"),  # close to Mayenne (FR-53) but not it
    ],
)
def test_unknown_names(country: str, name: str) -> None:
    assert subdivision_code(country, name=name) is None


def test_nothing_to_map() -> None:
    assert subdivision_code("US") is None


def test_every_alias_is_a_real_code_and_maps_to_it() -> None:
    for line in ALIASES.strip().splitlines():
        code, name = line.split(" ", 1)
        assert pycountry.subdivisions.get(code=code) is not None, line
        assert subdivision_code(code.split("-")[0], name=name) == code, line


def test_country_codes() -> None:
    assert is_country_code("KR")
    assert is_country_code("NA")
    assert is_country_code("XK")  # Kosovo, as geo databases store it
    assert not is_country_code("kr")
    assert not is_country_code("KOR")
    assert not is_country_code("ZZ")
    assert not is_country_code("")


def test_subdivision_codes() -> None:
    assert is_subdivision_code("US-CA")
    assert is_subdivision_code("KR-11")
    assert is_subdivision_code("GB-ENG")
    assert not is_subdivision_code("us-ca")
    assert not is_subdivision_code("US-ZZ")
    assert not is_subdivision_code("US")
    assert not is_subdivision_code("CA")


def test_continents() -> None:
    assert {
        "africa",
        "antarctica",
        "asia",
        "europe",
        "north-america",
        "oceania",
        "south-america",
    } == CONTINENTS
    assert continent_name("NA") == "north-america"
    assert continent_name("af") == "africa"
    assert continent_name("XX") is None


MAXMIND_RECORD = {
    "city": {"geoname_id": 5375480, "names": {"en": "Mountain View", "ja": "マウンテンビュー"}},
    "continent": {"code": "NA", "geoname_id": 6255149, "names": {"en": "North America"}},
    "country": {"geoname_id": 6252001, "iso_code": "US", "names": {"en": "United States"}},
    "location": {"accuracy_radius": 1000, "latitude": 37.386, "longitude": -122.0838},
    "subdivisions": [{"geoname_id": 5332921, "iso_code": "CA", "names": {"en": "California"}}],
}
DB_IP_RECORD = {
    "city": {"names": {"en": "Frankfurt am Main"}},
    "continent": {"code": "EU", "geoname_id": 6255148, "names": {"en": "Europe"}},
    "country": {"geoname_id": 2921044, "is_in_european_union": True, "iso_code": "DE", "names": {"en": "Germany"}},
    "location": {"latitude": 50.1109, "longitude": 8.68213},
    "subdivisions": [{"names": {"en": "Hesse"}}],
}


def test_location_from_maxmind_record() -> None:
    assert location_from_record(MAXMIND_RECORD) == GeoLocation(
        "US", "US-CA", "north-america", 37.386, -122.0838, "Mountain View"
    )


def test_location_from_db_ip_record() -> None:
    assert location_from_record(DB_IP_RECORD) == GeoLocation(
        "DE", "DE-HE", "europe", 50.1109, 8.68213, "Frankfurt am Main"
    )


def test_location_from_country_database_record() -> None:
    record = {"continent": {"code": "AF"}, "country": {"iso_code": "NA"}}
    assert location_from_record(record) == GeoLocation(country="NA", continent="africa")


def test_location_from_odd_records() -> None:
    assert location_from_record(None) is None
    assert location_from_record({}) is None
    assert location_from_record({"traits": {"is_anycast": True}}) is None
    half = {"country": {"iso_code": "kr"}, "location": {"latitude": 37.5}}
    assert location_from_record(half) == GeoLocation(country="KR")
    wrong_types = {"country": {"iso_code": 7}, "location": {"latitude": "37", "longitude": True}, "subdivisions": {}}
    assert location_from_record(wrong_types) is None
