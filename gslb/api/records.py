"""`GET /v1/records/{zone}`: every record a zone serves, from its file or from dynamic updates.

Dynamic records come with the key that last changed them and when; steered names are listed
with their service (their addresses are chosen per query). The order is that of the names.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gslb.api.errors import json_error
from gslb.wire.constants import type_name
from gslb.wire.name import BadNameError, Name
from gslb.zones.model import Zone


def zone_records(zone: Zone) -> list[dict[str, Any]]:
    dynamic = zone.dynamic.rrsets if zone.dynamic is not None else {}
    listed: list[dict[str, Any]] = []
    for wire, node in sorted(zone.nodes.items(), key=lambda item: item[1].name.text):
        if node.service is not None:
            listed.append({"name": node.name.text, "service": node.service, "source": "file"})
        for rtype, rrset in sorted(node.rrsets.items()):
            entry = dynamic.get((wire, rtype))
            if entry is not None:
                listed.append(entry.to_json())
            else:
                listed.append({"name": rrset.name.text, "type": type_name(rtype), "ttl": rrset.ttl,
                               "data": [rdata.text for rdata in rrset.rdatas], "source": "file"})
    return listed


def find_zone(zones: Any, text: str) -> Zone | None:
    """The served zone named `text` (with or without the trailing dot), or None."""
    try:
        return zones.get(Name.from_text(text))
    except BadNameError:
        return None


async def records(request: web.Request, zones: Any) -> web.Response:
    zone = find_zone(zones, request.match_info["zone"])
    if zone is None:
        raise json_error(web.HTTPNotFound, f"no zone {request.match_info['zone']} is served here")
    return web.json_response({"zone": zone.origin.text, "serial": zone.serial, "records": zone_records(zone)})
