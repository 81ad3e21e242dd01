"""Loading every zone file of a folder, keeping the serving version of any file that fails.

The result of a load is a report (what loaded, what was rejected and why) plus the new
`ZoneSet`: zones that loaded replace their old versions, rejected files keep serving their
old version, files that disappeared stop being served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gslb.common.problems import Problem
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import ZONE_SUFFIXES, SerialSource, content_serial, load_zone_file
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet


@dataclass
class LoadReport:
    loaded: list[Zone] = field(default_factory=list)
    kept: list[Zone] = field(default_factory=list)  # old versions still serving for rejected files
    rejected: list[ZoneFileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


def zone_files(location: Path) -> list[Path]:
    """The zone files in a folder (hidden and editor backup files skipped), or the file itself."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        return []
    return sorted(
        path for path in location.iterdir()
        if path.is_file() and path.name.endswith(ZONE_SUFFIXES) and not path.name.startswith(".")
    )


def load_zone_paths(paths: list[Path], serial_source: SerialSource = content_serial) -> LoadReport:
    """Load each file on its own; two files for the same zone reject the second."""
    report = LoadReport()
    by_origin: dict[bytes, Zone] = {}
    for path in paths:
        try:
            zone = load_zone_file(path, serial_source)
        except ZoneFileError as exc:
            report.rejected.append(exc)
            continue
        first = by_origin.get(zone.origin.wire)
        if first is not None:
            problem = Problem(str(path), 1, "zone", f"{zone.origin.text} is already served from {first.file}")
            report.rejected.append(ZoneFileError(str(path), [problem]))
            continue
        by_origin[zone.origin.wire] = zone
        report.loaded.append(zone)
    return report


def reload_zones(
    location: Path, previous: ZoneSet, serial_source: SerialSource = content_serial
) -> tuple[ZoneSet, LoadReport]:
    """Load the folder again; a rejected file keeps its previous zone serving."""
    report = load_zone_paths(zone_files(location), serial_source)
    zones = list(report.loaded)
    loaded_origins = {zone.origin.wire for zone in zones}
    rejected_files = {error.file for error in report.rejected}
    for old in previous:
        if old.file in rejected_files and old.origin.wire not in loaded_origins:
            report.kept.append(old)
            zones.append(old)
    return ZoneSet(zones, previous.generation + 1), report
