"""NAPTR (RFC 3403): ORDER PREFERENCE "FLAGS" "SERVICES" "REGEXP" REPLACEMENT.

The replacement is a domain name written as elsewhere in a zone file (relative to the zone
without a trailing dot), or `.` when the regular expression does the rewriting: the two are
mutually exclusive (RFC 3403 section 4.1), so a record that sets both is refused. It is never
compressed (RFC 3597 section 4).
"""

from __future__ import annotations

import re
import struct

from gslb.wire.name import ROOT, Name
from gslb.wire.rdata_wire import quoted
from gslb.wire.records import Rdata
from gslb.zones.rdata import RdataError, parse_domain, uint
from gslb.zones.rdata_text import character_string, split_pieces

FORM = 'ORDER PREFERENCE "FLAGS" "SERVICES" "REGEXP" REPLACEMENT'
_FLAGS = re.compile(rb"^[A-Za-z0-9]*$")
_SERVICES = re.compile(rb"^[A-Za-z0-9+:._-]*$")


def parse_naptr(value: object, origin: Name) -> Rdata:
    if not isinstance(value, str):
        raise RdataError(f"expected text of the form '{FORM}'")
    pieces = split_pieces(value)
    if len(pieces) != 6:
        raise RdataError(f"'{value}' is not of the form '{FORM}'")
    order_text, preference_text, flags, services, regexp, replacement_text = pieces
    numbers = [uint(text.decode(errors="replace"), 16, what)
               for text, what in ((order_text, "order"), (preference_text, "preference"))]
    if not _FLAGS.match(flags):
        raise RdataError(f"flags {quoted(flags)}: letters and digits only (RFC 3403 section 4.1)")
    if not _SERVICES.match(services):
        raise RdataError(f"services {quoted(services)}: letters, digits and + : . _ - only")
    if regexp:
        _check_regexp(regexp)
    try:
        replacement_str = replacement_text.decode("ascii")
    except UnicodeDecodeError:
        raise RdataError("the replacement must be a domain name in ASCII (punycode)") from None
    replacement = ROOT if replacement_str == "." else parse_domain(replacement_str, origin)
    if regexp and replacement != ROOT:
        raise RdataError("set either the regular expression or the replacement, not both "
                         "(write the replacement as '.'; RFC 3403 section 4.1)")
    wire = (struct.pack("!HH", *numbers) + character_string(flags, "flags")
            + character_string(services, "services") + character_string(regexp, "regexp") + replacement.wire)
    text = (f"{numbers[0]} {numbers[1]} {quoted(flags)} {quoted(services)} "
            f"{quoted(regexp)} {replacement.text}")
    return Rdata((wire,), text)


def _check_regexp(regexp: bytes) -> None:
    """RFC 3403 section 3.2: DELIM ERE DELIM SUBSTITUTION DELIM [i], the delimiter not a digit,
    backslash or 'i', and escaped with a backslash where the expression itself holds it."""
    delimiter = regexp[:1]
    if delimiter.isdigit() or delimiter in (b"\\", b"i"):
        raise RdataError(f"regexp {quoted(regexp)}: the delimiter may not be a digit, '\\\\' or 'i'")
    body = regexp[:-1] if regexp.endswith(b"i") and len(regexp) > 1 else regexp
    escaped = re.escape(delimiter)
    parts = re.split(rb"(?<!\\)" + escaped, body)
    if len(parts) != 4 or parts[0] or parts[3]:
        raise RdataError(f"regexp {quoted(regexp)} is not of the form DELIM ERE DELIM SUBSTITUTION DELIM [i] "
                         "(RFC 3403 section 3.2)")

