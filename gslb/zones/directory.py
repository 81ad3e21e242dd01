"""Loading every zone file of a folder, keeping the serving version of any file that fails.

The result of a load is a report (what loaded, what was rejected and why) plus the new
`ZoneSet`: zones that loaded replace their old versions, rejected files keep serving their
old version, files that disappeared stop being served. A folder's shared definitions
(`_shared.yaml`, gslb.zones.shared) are read once per load and given to each of its zones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gslb.common.problems import Problem
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import ZONE_SUFFIXES, SerialSource, content_serial, load_zone_file
from gslb.zones.model import Zone
from gslb.zones.policy_model import SharedDefinitions
from gslb.zones.shared import SHARED_FILE, load_shared
from gslb.zones.zoneset import ZoneSet


@dataclass
class LoadReport:
    loaded: list[Zone] = field(default_factory=list)
    kept: list[Zone] = field(default_factory=list)  # old versions still serving for rejected files
    rejected: list[ZoneFileError] = field(default_factory=list)
    shared: list[SharedDefinitions] = field(default_factory=list)  # shared files that loaded

    @property
    def ok(self) -> bool:
        return not self.rejected


def zone_files(location: Path) -> list[Path]:
    """The zone files in a folder (hidden and editor backup files, and the shared file, skipped),
    or the file itself."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        return []
    return sorted(
        path for path in location.iterdir()
        if path.is_file() and path.name.endswith(ZONE_SUFFIXES) and not path.name.startswith(".")
        and path.name != SHARED_FILE
    )


class _SharedByFolder:
    """Each folder's shared definitions, read once per load; a broken shared file is reported once."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report
        self.found: dict[Path, SharedDefinitions | ZoneFileError | None] = {}

    def get(self, folder: Path) -> SharedDefinitions | ZoneFileError | None:
        if folder not in self.found:
            try:
                shared = self.found[folder] = load_shared(folder)
            except ZoneFileError as exc:
                self.found[folder] = exc
                self.report.rejected.append(exc)
            else:
                if shared is not None:
                    self.report.shared.append(shared)
        return self.found[folder]


def _waiting_for_shared(path: Path, broken: ZoneFileError) -> ZoneFileError | None:
    """A steered zone is not loaded while its folder's shared file is rejected (it may use what is broken)."""
    try:
        zone = load_zone_file(path)  # without the shared definitions: only to see whether it steers
    except ZoneFileError:
        zone = None
    steers = zone is None or zone.policy is not None
    if not steers:
        return None
    message = f"not loaded while {broken.file} is rejected (fix its problems first)"
    return ZoneFileError(str(path), [Problem(str(path), 0, "", message)])


def load_zone_paths(paths: list[Path], serial_source: SerialSource = content_serial) -> LoadReport:
    """Load each file on its own, with its folder's shared definitions; two files for the same zone
    reject the second. A shared file named explicitly is checked on its own."""
    report = LoadReport()
    by_origin: dict[bytes, Zone] = {}
    shared_of = _SharedByFolder(report)
    for path in paths:
        if path.name == SHARED_FILE:
            shared_of.get(path.parent)
            continue
        if path.name.lower().startswith("_shared."):  # _shared.yml: meant as the shared file, surely
            problem = Problem(str(path), 0, "", f"the shared definitions are read from {SHARED_FILE} only: rename it")
            report.rejected.append(ZoneFileError(str(path), [problem]))
            continue
        shared = shared_of.get(path.parent)
        if isinstance(shared, ZoneFileError):
            waiting = _waiting_for_shared(path, shared)
            if waiting is not None:
                report.rejected.append(waiting)
                continue
            shared = None
        try:
            zone = load_zone_file(path, serial_source, shared)
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
