"""Warnings for relative names that look like full names.

A name without its final dot is relative to the zone, as in BIND zone files: inside example.com,
`CNAME: cdn.example.net` points at cdn.example.net.example.com., which is valid and almost never
meant. Such a name is accepted (it may be meant) and warned about: a relative name of two labels
or more whose last label is a top-level domain (a generic one, a country code, or the zone's own).
Warnings never reject a file; `gslb check` prints them and the server logs them.
"""

from __future__ import annotations

from typing import Any

from gslb.common.problems import Problem
from gslb.common.yamldoc import YList, YMap
from gslb.geo.subdivisions import is_country_code
from gslb.wire.name import Name

# Common generic top-level domains (country codes come from ISO 3166).
GENERIC_TLDS = frozenset((
    "com", "net", "org", "edu", "gov", "mil", "int", "arpa", "info", "biz", "name", "pro", "mobi", "aero", "coop",
    "io", "app", "dev", "cloud", "online", "site", "tech", "xyz", "shop", "store", "page", "blog", "global",
))
# Record types whose value ends with a domain name (MX and SRV: the last field).
NAME_TYPES = ("CNAME", "NS", "PTR", "MX", "SRV")


def looks_absolute(text: str, origin: Name) -> bool:
    """Whether a name as written is relative but reads like a full name."""
    text = text.strip()
    if not text or text.endswith(".") or text == "@":
        return False
    labels = text.lower().split(".")
    if len(labels) < 2:
        return False
    last = labels[-1]
    own = origin.text.rstrip(".").rsplit(".", 1)[-1].lower()
    return last in GENERIC_TLDS or last == own or (len(last) == 2 and is_country_code(last.upper()))


def _message(text: str, origin: Name) -> str:
    full = f"{text.strip()}.{origin.text}"
    return (f"'{text.strip()}' has no final dot, so it means {full}; if you meant {text.strip()}., "
            "add the dot")


def relative_name_warnings(doc: YMap, origin: Name, file: str) -> list[Problem]:
    """One warning per relative name that looks like a full name: owner names, name values, `ns`, the SOA primary."""
    found: list[Problem] = []

    def check(text: Any, line: int, field: str) -> None:
        if isinstance(text, str) and looks_absolute(text, origin):
            found.append(Problem(file, line, field, _message(text, origin)))

    ns = doc.get("ns")
    for index, item in enumerate(ns if isinstance(ns, YList) else [ns]):
        check(item, ns.line_of(index) if isinstance(ns, YList) else doc.line_of("ns"), f"ns[{index}]")
    soa = doc.get("soa")
    if isinstance(soa, YMap):
        check(soa.get("primary"), soa.line_of("primary"), "soa.primary")
    records = doc.get("records")
    if not isinstance(records, YMap):
        return found
    for owner, value in records.items():
        check(owner, records.line_of(owner), f"records.{owner}")
        if not isinstance(value, YMap):
            continue
        for rtype in NAME_TYPES:
            data = value.get(rtype)
            items = data if isinstance(data, YList) else [data]
            for index, item in enumerate(items):
                line = data.line_of(index) if isinstance(data, YList) else value.line_of(rtype)
                field = f"records.{owner}.{rtype}" + (f"[{index}]" if isinstance(data, YList) else "")
                check(item.split()[-1] if isinstance(item, str) and item.split() else item, line, field)
    return found
