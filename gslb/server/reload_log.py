"""The log lines of a zone reload: one per zone loaded, rejected, kept or gone, per warning, and a
summary. Plain lines for people, structured fields (`event`, `zone`, `file`, ...) for JSON logs."""

from __future__ import annotations

import logging

from gslb.zones.directory import LoadReport
from gslb.zones.zoneset import ZoneSet

log = logging.getLogger("gslb")


def log_reload(trigger: str, report: LoadReport, previous: ZoneSet, zones: ZoneSet) -> str:
    """One line per zone loaded, rejected, kept or gone, per warning, and a summary (returned for sd_notify)."""
    serving = len(zones)
    for shared in report.shared:
        log.info("shared definitions loaded from %s", shared.file,
                 extra={"event": "shared_loaded", "file": shared.file})
    for zone in report.loaded:
        log.info("zone %s loaded from %s (serial %d)", zone.origin.text, zone.file, zone.serial, extra={
            "event": "zone_loaded", "zone": zone.origin.text, "file": zone.file, "serial": zone.serial})
        for warning in zone.warnings:
            log.warning("zone file warning: %s", warning, extra={
                "event": "zone_warning", "file": warning.file, "line": warning.line, "field": warning.field,
                "problem": warning.message})
    for error in report.rejected:
        for problem in error.problems:
            log.error("zone file rejected: %s", problem, extra={
                "event": "zone_rejected", "file": problem.file, "line": problem.line,
                "field": problem.field, "problem": problem.message})
    for zone in report.kept:
        log.warning("zone %s keeps serving its previous version (serial %d)", zone.origin.text, zone.serial,
                    extra={"event": "zone_kept", "zone": zone.origin.text, "serial": zone.serial})
    _log_gone(report, previous, zones)
    summary = (f"{len(report.loaded)} loaded, {len(report.rejected)} rejected, {len(report.kept)} kept;"
               f" serving {serving} zone(s)")
    log.info("reload done (%s): %s", trigger, summary, extra={
        "event": "reload", "trigger": trigger, "loaded": len(report.loaded),
        "rejected": len(report.rejected), "kept": len(report.kept), "zones": serving})
    return summary


def _log_gone(report: LoadReport, previous: ZoneSet, zones: ZoneSet) -> None:
    """A zone that stops being served is worth a WARNING with its name: its names now get REFUSED."""
    read = {zone.file: zone for zone in report.loaded}
    for old in previous:
        if zones.get(old.origin) is not None:
            continue
        now = read.get(old.file)
        why = f"its file {old.file} now holds {now.origin.text}" if now else f"its file {old.file} was removed"
        log.warning("zone %s is no longer served: %s", old.origin.text, why, extra={
            "event": "zone_gone", "zone": old.origin.text, "file": old.file})
