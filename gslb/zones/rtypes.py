"""Every record type a zone file may hold, and the parser of each: the basic types of
`gslb.zones.rdata` and the ones that delegated zones need today (DS, SSHFP, TLSA, NAPTR, SVCB,
HTTPS), each in a module of its own."""

from __future__ import annotations

from collections.abc import Callable

from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import Rdata
from gslb.zones import rdata
from gslb.zones.rdata_hex import parse_ds, parse_sshfp, parse_tlsa
from gslb.zones.rdata_naptr import parse_naptr
from gslb.zones.svcb import parse_svcb

PARSERS: dict[int, Callable[[object, Name], Rdata]] = {
    **rdata.PARSERS,
    RRType.NAPTR: parse_naptr,
    RRType.DS: parse_ds,
    RRType.SSHFP: parse_sshfp,
    RRType.TLSA: parse_tlsa,
    RRType.SVCB: parse_svcb,
    RRType.HTTPS: parse_svcb,
}

STATIC_TYPES: dict[str, int] = {RRType(t).name: t for t in PARSERS}


def parse_rdata(rtype: int, value: object, origin: Name) -> Rdata:
    """The record data of a zone-file value; raises RdataError with a message for the operator."""
    return PARSERS[rtype](value, origin)
