"""`GET /status` and `/status/datacenters`: the JSON documents, built from the server's state."""

from __future__ import annotations

from typing import Any

from gslb.api.control import ServerControl
from gslb.api.states import datacenter_counts, pool_families, steered_zones, summary
from gslb.common.times import iso
from gslb.health.monitor import HealthMonitor
from gslb.zones.zoneset import ZoneSet


def pools_status(zones: ZoneSet, monitor: HealthMonitor) -> list[dict[str, Any]]:
    now = monitor.clock()
    pools = []
    for zone in steered_zones(zones):
        for pool in zone.policy.pools.values():
            members = []
            for member in pool.members:
                key = (zone.origin.text, pool.name, member.address)
                state = monitor.view.member_state(*key)
                override = monitor.override_for(key)
                target = monitor.index.target_of.get(key)
                reports = [
                    {"prober": prober, "up": v.up, "rtt_ms": v.rtt_ms, "error": v.error, "received": iso(v.received),
                     "fresh": now - v.received <= monitor.config.stale_after}
                    for prober, v in sorted(monitor.verdicts.get(target, {}).items())
                ] if target else []
                members.append({
                    "address": str(member.address),
                    "state": state.value,
                    "stale": monitor.is_stale(target),  # every verdict stale: the last known state
                    "since": iso(monitor.since(key)),
                    "override": override.to_api_json() if override is not None else None,
                    "probed": target is not None,
                    "target": target,
                    "reports": reports,
                })
            families = pool_families(monitor.view, zone, pool)
            pools.append({
                "zone": zone.origin.text.rstrip("."),
                "name": pool.name,
                "datacenter": pool.datacenter,
                # up or down for every family it has, degraded when the families disagree
                "state": summary(family["state"] for family in families.values()),
                "families": families,
                "min_healthy": pool.min_healthy,
                "members": members,
            })
    return pools


def datacenters_status(zones: ZoneSet, monitor: HealthMonitor) -> list[dict[str, Any]]:
    """Per datacenter: up when every member counts as up, down when none does, else degraded;
    the same per address family."""
    result = []
    for zone in steered_zones(zones):
        counts = datacenter_counts(monitor.view, zone)
        for name, datacenter in zone.policy.datacenters.items():
            overall, families = counts[name]
            result.append({
                "zone": zone.origin.text.rstrip("."),
                "name": name,
                "location": list(datacenter.location) if datacenter.location else None,
                "state": overall.state,
                "families": {family: count.state for family, count in families.items()},
                "members_up": overall.up,
                "members_unknown": overall.unknown,
                "members_total": overall.total,
            })
    return result


def probers_status(monitor: HealthMonitor) -> list[dict[str, Any]]:
    return [
        {"name": name, "last_report": iso(info.last_report), "datacenter": info.datacenter,
         "location": list(info.location) if info.location else None,
         "silent": name in monitor.blindness.silent}
        for name, info in sorted(monitor.probers.items())
    ]


def monitoring_status(monitor: HealthMonitor) -> dict[str, Any]:
    """Where health is blind: probers silent past stale_after, targets kept at their last known state."""
    now = monitor.clock()
    stale = []
    for target in sorted(monitor.blindness.stale):
        verdicts = monitor.verdicts.get(target, {})
        found = monitor.index.targets.get(target)
        stale.append({
            "target": target,
            "address": found.address if found is not None else None,
            "state": monitor.target_state(target, now).value,
            "last_verdict": iso(max((v.received for v in verdicts.values()), default=None)),
        })
    return {
        "stale_after": monitor.stale_after,
        "silent_probers": [
            {"name": name, "last_report": iso(monitor.probers[name].last_report)}
            for name in sorted(monitor.blindness.silent)  # a subset of monitor.probers, which only grows
        ],
        "stale_targets": stale,
    }


def zone_files_status(server: ServerControl) -> list[dict[str, Any]]:
    """Per zone file: the zone and serial it serves (if any), and its last reload attempt."""
    serving = {zone.file: zone for zone in server.zones}
    result = []
    for attempt in server.reload_attempts.files.values():
        zone = serving.get(attempt.file)
        result.append({
            "file": attempt.file,
            "zone": zone.origin.text if zone is not None else None,
            "serial": zone.serial if zone is not None else None,
            "loaded_at": iso(zone.loaded_at) if zone is not None else None,
            "latest": attempt.loaded,  # false: the file as it is now was rejected
            "last_attempt": {"time": iso(attempt.time), "trigger": attempt.trigger,
                             "result": "loaded" if attempt.loaded else "rejected", "errors": list(attempt.errors)},
        })
    return result


def updates_status(server: ServerControl) -> dict[str, Any] | None:
    """Dynamic updates: the keys, where records are shared, results so far, every dynamic record."""
    if server.updates is None:
        return None
    records = [{"zone": zone.origin.text, **entry.to_json()} for zone in server.zones if zone.dynamic
               for entry in sorted(zone.dynamic.rrsets.values(), key=lambda e: (e.rrset.name.text, e.rrset.rtype))]
    return {**server.updates.status(), "records": records}


def server_status(server: ServerControl) -> dict[str, Any]:
    """The whole `/status` document."""
    zones = server.zones
    return {
        "health_backend": server.health.backend.describe(),
        "zones": [
            {"zone": zone.origin.text, "serial": zone.serial, "loaded_at": iso(zone.loaded_at), "file": zone.file,
             "dynamic_records": sum(len(e.rrset.rdatas) for e in zone.dynamic.rrsets.values()) if zone.dynamic else 0}
            for zone in zones
        ],
        "zone_files": zone_files_status(server),
        "updates": updates_status(server),
        "datacenters": datacenters_status(zones, server.health),
        "pools": pools_status(zones, server.health),
        "probers": probers_status(server.health),
        "monitoring": monitoring_status(server.health),
        "dns_processes": server.dns_processes(),
        "geodb": server.geodb_status(),
    }
