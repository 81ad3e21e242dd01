"""Where clients are: the geo database (GeoIP2/GeoLite2/DB-IP .mmdb) and ISO codes for zone keys.

The steering engine asks two things: `GeoDatabase.lookup` (a client's GeoLocation and
the database network holding it) and `GeoDatabase.networks_within` (which networks of
a block share a record, for the EDNS Client Subnet scope). The zone validator checks
map keys with `is_country_code`, `is_subdivision_code` and `CONTINENTS`.
"""

from gslb.geo.builder import build_database
from gslb.geo.database import BUNDLED, NO_DATA, GeoDatabase
from gslb.geo.errors import GeoCsvError, GeoDatabaseError, GeoError, GeoWalkLimitError
from gslb.geo.location import GeoLocation, location_from_record
from gslb.geo.subdivisions import (
    CONTINENT_BY_CODE,
    CONTINENTS,
    continent_name,
    is_country_code,
    is_subdivision_code,
    subdivision_code,
)

__all__ = [
    "BUNDLED",
    "CONTINENTS",
    "CONTINENT_BY_CODE",
    "NO_DATA",
    "GeoCsvError",
    "GeoDatabase",
    "GeoDatabaseError",
    "GeoError",
    "GeoLocation",
    "GeoWalkLimitError",
    "build_database",
    "continent_name",
    "is_country_code",
    "is_subdivision_code",
    "location_from_record",
    "subdivision_code",
]
