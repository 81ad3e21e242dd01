"""`GET /status` and `/status/datacenters`: the JSON documents, built from the server's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gslb.api.control import ServerControl
from gslb.health.monitor import HealthMonitor
from gslb.health.view import State, counts_as_up
from gslb.zones.zoneset import ZoneSet


def iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp is not None else None


def pools_status(zones: ZoneSet, monitor: HealthMonitor) -> list[dict[str, Any]]:
    now = monitor.clock()
    pools = []
    for zone in zones:
        if zone.policy is None:
            continue
        for pool in zone.policy.pools.values():
            members = []
            live = 0
            for member in pool.members:
                key = (zone.origin.text, pool.name, member.address)
                state = monitor.view.member_state(*key)
                live += counts_as_up(state, pool.initial)
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
                    "since": iso(monitor.since(key)),
                    "override": override.to_json() if override is not None else None,
                    "probed": target is not None,
                    "target": target,
                    "reports": reports,
                })
            pools.append({
                "zone": zone.origin.text.rstrip("."),
                "name": pool.name,
                "datacenter": pool.datacenter,
                "state": "up" if live >= pool.min_healthy else "down",
                "min_healthy": pool.min_healthy,
                "members": members,
            })
    return pools


def datacenters_status(zones: ZoneSet, monitor: HealthMonitor) -> list[dict[str, Any]]:
    """Per datacenter: up when every member counts as up, down when none does, else degraded."""
    result = []
    for zone in zones:
        if zone.policy is None:
            continue
        for name, datacenter in zone.policy.datacenters.items():
            total = up = unknown = live = 0
            for pool in zone.policy.pools.values():
                if pool.datacenter != name:
                    continue
                for member in pool.members:
                    state = monitor.view.member_state(zone.origin.text, pool.name, member.address)
                    total += 1
                    up += state is State.UP
                    unknown += state is State.UNKNOWN
                    live += counts_as_up(state, pool.initial)
            state_name = "up" if live == total else "down" if live == 0 else "degraded"
            result.append({
                "zone": zone.origin.text.rstrip("."),
                "name": name,
                "location": list(datacenter.location) if datacenter.location else None,
                "state": state_name,
                "members_up": up,
                "members_unknown": unknown,
                "members_total": total,
            })
    return result


def probers_status(monitor: HealthMonitor) -> list[dict[str, Any]]:
    return [
        {"name": name, "last_report": iso(info.last_report), "datacenter": info.datacenter,
         "location": list(info.location) if info.location else None}
        for name, info in sorted(monitor.probers.items())
    ]


def server_status(server: ServerControl) -> dict[str, Any]:
    """The whole `/status` document."""
    zones = server.zones
    return {
        "health_backend": server.health.backend.describe(),
        "zones": [
            {"zone": zone.origin.text, "serial": zone.serial, "loaded_at": iso(zone.loaded_at), "file": zone.file}
            for zone in zones
        ],
        "datacenters": datacenters_status(zones, server.health),
        "pools": pools_status(zones, server.health),
        "probers": probers_status(server.health),
        "dns_processes": server.dns_processes(),
        "geodb": server.geodb_status(),
    }
