"""Where a client is, as the steering engine needs it: codes, not database records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gslb.geo.subdivisions import continent_name, subdivision_code


@dataclass(frozen=True, slots=True)
class GeoLocation:
    """A client's location, normalised so zone map keys can be compared directly.

    `country` is ISO 3166-1 alpha-2 upper case, `subdivision` is ISO 3166-2 ("US-CA"),
    `continent` is spelled out ("north-america") so that `NA` always means Namibia.
    """

    country: str | None = None
    subdivision: str | None = None
    continent: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    city: str | None = None


def location_from_record(record: Mapping[str, Any] | None) -> GeoLocation | None:
    """Read a GeoIP2/GeoLite2/DB-IP City or Country record; None when it says nothing useful.

    Records come from files we did not write, so every field is checked for its type
    rather than trusted.
    """
    if not isinstance(record, Mapping):
        return None
    country = _text(record, "country", "iso_code")
    country = country.upper() if country else None
    continent_code = _text(record, "continent", "code")
    latitude = _number(record, "location", "latitude")
    longitude = _number(record, "location", "longitude")
    if latitude is None or longitude is None:
        latitude = longitude = None
    location = GeoLocation(
        country=country,
        subdivision=_subdivision(record, country),
        continent=continent_name(continent_code) if continent_code else None,
        latitude=latitude,
        longitude=longitude,
        city=_text(record, "city", "names", "en"),
    )
    return None if location == _NOWHERE else location


_NOWHERE = GeoLocation()


def _subdivision(record: Mapping[str, Any], country: str | None) -> str | None:
    """The ISO 3166-2 code of the largest subdivision (MaxMind lists largest first)."""
    subdivisions = record.get("subdivisions")
    if not country or not isinstance(subdivisions, list) or not subdivisions:
        return None
    first = subdivisions[0]
    return subdivision_code(country, iso_code=_text(first, "iso_code"), name=_text(first, "names", "en"))


def _field(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any, *path: str) -> str | None:
    found = _field(value, path)
    return found if isinstance(found, str) and found else None


def _number(value: Any, *path: str) -> float | None:
    found = _field(value, path)
    if isinstance(found, bool) or not isinstance(found, int | float):
        return None
    return float(found)
