"""The last reload attempt of each zone file: what `/status` shows so a rejection is seen outside the log.

A rejected file keeps its previous version serving, which is right for the answers and easy to
miss for the operator who edited it: the log says so once, and nothing else did. The book keeps,
per file, the last attempt (when, what asked for it, loaded or rejected, and every problem as
`file:line: field: message`) for as long as the file is in the folder or its zone is served.
"""

from __future__ import annotations

from dataclasses import dataclass

from gslb.zones.directory import LoadReport


@dataclass(frozen=True, slots=True)
class Attempt:
    """One file's last reload attempt."""

    file: str
    time: float  # Unix seconds
    trigger: str  # start, signal, watch, api
    loaded: bool  # False: rejected, and whatever was serving from it still is
    errors: tuple[str, ...] = ()  # `file:line: field: message`, in line order


class AttemptBook:
    """Per zone file, its last attempt; replaced whole after each reload."""

    def __init__(self) -> None:
        self.files: dict[str, Attempt] = {}

    def record(self, report: LoadReport, trigger: str, when: float) -> None:
        """Take in a reload: files loaded or rejected get this attempt; files gone are forgotten."""
        files = {zone.file: self.files[zone.file] for zone in report.kept if zone.file in self.files}
        for zone in report.loaded:
            files[zone.file] = Attempt(zone.file, when, trigger, True)
        for error in report.rejected:
            files[error.file] = Attempt(error.file, when, trigger, False, tuple(str(p) for p in error.problems))
        self.files = dict(sorted(files.items()))

    def rejected(self) -> list[Attempt]:
        """Files whose serving version (if any) is not their latest: the last attempt was refused."""
        return [attempt for attempt in self.files.values() if not attempt.loaded]
