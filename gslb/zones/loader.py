"""Reading and validating one zone policy file into an immutable `Zone`.

Every problem found is collected with its line and field and the file is rejected as a
whole: a zone is either loaded completely or not at all. The static part of the format
lives here; steering sections (datacenters, checks, pools, services) are parsed by
`gslb.zones.policy` and attached to the zone as its `policy`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gslb.common.problems import Problems
from gslb.common.settings import boolean
from gslb.common.yamldoc import YList, YMap, parse_yaml_bytes, read_file_bytes
from gslb.wire.constants import RRType
from gslb.wire.name import Name
from gslb.wire.records import RRset
from gslb.zones import policy as policy_mod
from gslb.zones.errors import ZoneFileError
from gslb.zones.model import Node, Zone
from gslb.zones.name_warnings import relative_name_warnings
from gslb.zones.policy_model import SharedDefinitions
from gslb.zones.policy_references import check_references
from gslb.zones.rdata import RdataError, parse_domain, soa_rdata
from gslb.zones.record_rules import check_record_rules
from gslb.zones.rtypes import STATIC_TYPES, parse_rdata
from gslb.zones.svcb import HintedRdata

ZONE_SUFFIXES = (".yaml", ".yml")
TOP_KEYS = ("zone", "ttl", "soa", "ns", "dnssec", "records", *policy_mod.SECTIONS)
SOA_KEYS = ("primary", "contact", "serial", "refresh", "retry", "expire", "minimum")
SOA_DEFAULTS = {"refresh": 7200, "retry": 3600, "expire": 1209600, "minimum": 60}
MAX_TTL = 2**31 - 1
DEFAULT_TTL = 300

DELEGATION_TYPES = (RRType.NS, RRType.DS, RRType.A, RRType.AAAA)

SerialSource = Callable[[Name, str], int]


def content_serial(origin: Name, content_hash: str) -> int:
    """A serial for when no history is kept (gslb check): stable for the same content."""
    return int(content_hash[:8], 16) & 0x7FFFFFFF


def zone_name_from_path(path: Path) -> str:
    name = path.name
    for suffix in ZONE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_zone_file(path: Path, serial_source: SerialSource = content_serial,
                   shared: SharedDefinitions | None = None) -> Zone:
    """Load and validate a zone file (with its folder's `shared` definitions); raises ZoneFileError
    listing every problem."""
    file = str(path)
    data = read_file_bytes(path, Problems(file), ZoneFileError)
    return parse_zone(data, file, zone_name_from_path(path), serial_source, shared)


def parse_zone(data: bytes, file: str, file_zone: str, serial_source: SerialSource = content_serial,
               shared: SharedDefinitions | None = None) -> Zone:
    problems = Problems(file)
    doc = parse_yaml_bytes(data, problems, ZoneFileError)
    if not isinstance(doc, YMap):
        problems.add(1, "", "a zone file must be a mapping with at least 'zone' or 'ns'")
        problems.raise_if_any(ZoneFileError)
    steers = any(section in doc for section in policy_mod.SECTIONS)
    shared = shared if steers else None
    # A steered zone's content is its file and the shared definitions it gets: a change to either
    # is a change to the zone (its serial rises).
    content = hashlib.sha256(data + (shared.digest if shared is not None else b""))
    builder = _ZoneBuilder(doc, file, file_zone, problems, shared)
    zone = builder.build(content.hexdigest(), serial_source)
    problems.raise_if_any(ZoneFileError)
    assert zone is not None
    return zone


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


class _ZoneBuilder:
    """Walks the document once, section by section, collecting problems as it goes."""

    def __init__(self, doc: YMap, file: str, file_zone: str, problems: Problems,
                 shared: SharedDefinitions | None = None) -> None:
        self.doc = doc
        self.shared = shared
        self.file = file
        self.file_zone = file_zone
        self.problems = problems
        self.nodes: dict[bytes, dict[str, Any]] = {}
        self.ns_where: list[tuple[int, int]] = []  # (index in 'ns', line) of each accepted name
        self.hinted: list[tuple[HintedRdata, int, str]] = []  # SVCB/HTTPS with hints from a service, line, field

    # -- helpers -------------------------------------------------------------------------

    def add(self, line: int, field: str, message: str) -> None:
        self.problems.add(line, field, message)

    def ttl(self, value: Any, line: int, field: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TTL:
            self.add(line, field, f"'{value}' is not a TTL (whole seconds from 0 to {MAX_TTL})")
            return None
        return value

    # -- sections ------------------------------------------------------------------------

    def build(self, content_hash: str, serial_source: SerialSource) -> Zone | None:
        doc = self.doc
        for key in doc:
            if key not in TOP_KEYS:
                self.add(doc.line_of(key), key, f"unknown key (expected one of: {', '.join(TOP_KEYS)})")
        origin = self.origin()
        if origin is None:
            return None
        default_ttl = DEFAULT_TTL
        if "ttl" in doc:
            default_ttl = _or(self.ttl(doc["ttl"], doc.line_of("ttl"), "ttl"), DEFAULT_TTL)
        ns_names = self.apex_ns(origin)
        records = doc.get("records")
        nodes: dict[bytes, Node] = {}
        if records is not None:
            if not isinstance(records, YMap):
                self.add(doc.line_of("records"), "records", "must be a mapping of names to records")
            else:
                nodes = self.records(records, origin, default_ttl)
        policy = policy_mod.parse_policy(doc, origin, self.problems, self.shared)
        soa = self.soa(origin, ns_names, default_ttl, content_hash, serial_source)
        if soa is None:
            return None
        apex = nodes.get(origin.wire)
        apex_rrsets = dict(apex.rrsets) if apex else {}
        apex_rrsets[RRType.SOA] = soa
        if ns_names:
            apex_rrsets[RRType.NS] = RRset(
                origin, RRType.NS, default_ttl,
                tuple(parse_rdata(RRType.NS, name.text, origin) for name in ns_names),
            )
        nodes[origin.wire] = Node(origin, apex_rrsets, apex.service if apex else None,
                                  apex.ttl if apex else None, apex.line if apex else 1)
        cuts = frozenset(
            wire for wire, node in nodes.items() if wire != origin.wire and RRType.NS in node.rrsets
        )
        existing = self.existing_names(nodes, origin)
        self.check_tree(nodes, origin, cuts, ns_names)
        services = doc.get("services")
        written = set(services) if isinstance(services, YMap) else set()  # defined, even if defined wrongly
        check_references(policy, nodes, origin, self.problems, written)
        check_record_rules(nodes, origin, policy, self.hinted, self.problems, written)
        if self.problems:
            return None
        minimum = int.from_bytes(soa.rdatas[0].parts[2][16:20], "big")  # type: ignore[index]
        return Zone(
            origin=origin,
            file=self.file,
            serial=int.from_bytes(soa.rdatas[0].parts[2][0:4], "big"),  # type: ignore[index]
            soa=soa,
            nodes=nodes,
            existing=existing,
            cuts=cuts,
            negative_ttl=min(soa.ttl, minimum),
            content_hash=content_hash,
            default_ttl=default_ttl,
            policy=policy,
            loaded_at=time.time(),
            warnings=tuple(relative_name_warnings(self.doc, origin, self.file)),
            dnssec=self.dnssec(),
        )

    def dnssec(self) -> bool:
        """The zone's `dnssec:` switch, checked as every true/false setting is."""
        try:
            return boolean(self.doc.get("dnssec", False))
        except ValueError as exc:
            self.add(self.doc.line_of("dnssec"), "dnssec", str(exc))
            return False

    def origin(self) -> Name | None:
        doc = self.doc
        from_file = self.file_zone.rstrip(".")
        value = doc.get("zone", from_file)
        line = doc.line_of("zone")
        if not isinstance(value, str):
            self.add(line, "zone", f"'{value}' is not a domain name")
            return None
        try:
            origin = parse_domain(value if value.endswith(".") else value + ".", Name(()))
        except RdataError as exc:
            self.add(line, "zone", str(exc))
            return None
        if origin.text.rstrip(".").lower() != from_file.lower():
            self.add(line, "zone", f"'{origin.text}' does not match the file name (expected {from_file}.yaml)")
        return origin

    def apex_ns(self, origin: Name) -> list[Name]:
        doc = self.doc
        value = doc.get("ns")
        line = doc.line_of("ns")
        if value is None:
            self.add(doc.line, "ns", "required: the zone's name servers")
            return []
        values = value if isinstance(value, list) else [value]
        names: list[Name] = []
        for index, item in enumerate(values):
            item_line = value.line_of(index) if isinstance(value, YList) else line
            try:
                name = parse_domain(item if isinstance(item, str) else "", origin)
            except RdataError as exc:
                self.add(item_line, f"ns[{index}]", str(exc) if isinstance(item, str) else f"'{item}' is not a name")
                continue
            if name in names:
                self.add(item_line, f"ns[{index}]", f"{name.text} is listed twice")
            names.append(name)
            self.ns_where.append((index, item_line))
        if not values:
            self.add(line, "ns", "at least one name server is required")
        return names

    def soa(
        self, origin: Name, ns_names: list[Name], ttl: int, content_hash: str, serial_source: SerialSource
    ) -> RRset | None:
        doc = self.doc
        value = doc.get("soa", YMap())
        if not isinstance(value, YMap):
            self.add(doc.line_of("soa"), "soa", "must be a mapping (primary, contact, refresh, ...)")
            return None
        for key in value:
            if key not in SOA_KEYS:
                self.add(value.line_of(key), f"soa.{key}", f"unknown key (expected one of: {', '.join(SOA_KEYS)})")
        primary = ns_names[0] if ns_names else origin
        if "primary" in value:
            try:
                primary = parse_domain(value["primary"], origin)
            except RdataError as exc:
                self.add(value.line_of("primary"), "soa.primary", str(exc))
        contact = Name((b"hostmaster", *origin.labels))
        if "contact" in value:
            contact = self.contact(value["contact"], origin, value.line_of("contact")) or contact
        numbers: dict[str, int] = {}
        for key, default in SOA_DEFAULTS.items():
            numbers[key] = default
            if key in value:
                numbers[key] = _or(self.ttl(value[key], value.line_of(key), f"soa.{key}"), default)
        if "serial" in value:
            serial = value["serial"]
            if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial < 2**32:
                self.add(value.line_of("serial"), "soa.serial", f"'{serial}' is not a number from 0 to 4294967295")
                serial = 0
        else:
            serial = serial_source(origin, content_hash)
        rdata = soa_rdata(primary, contact, serial, numbers["refresh"], numbers["retry"],
                          numbers["expire"], numbers["minimum"])
        return RRset(origin, RRType.SOA, ttl, (rdata,))

    def contact(self, value: Any, origin: Name, line: int) -> Name | None:
        if not isinstance(value, str) or not value.strip():
            self.add(line, "soa.contact", f"'{value}' is not a mailbox")
            return None
        text = value.strip()
        if "@" in text:
            local, _, domain = text.partition("@")
            if "." in local or not local:
                self.add(line, "soa.contact", f"'{text}': the part before '@' must be one label without dots")
                return None
            text = f"{local}.{domain.rstrip('.')}."
        try:
            return parse_domain(text, origin)
        except RdataError as exc:
            self.add(line, "soa.contact", str(exc))
            return None

    def records(self, records: YMap, origin: Name, default_ttl: int) -> dict[bytes, Node]:
        nodes: dict[bytes, Node] = {}
        first_line: dict[bytes, tuple[str, int]] = {}
        for owner_text, value in records.items():
            line = records.line_of(owner_text)
            field = f"records.{owner_text}"
            try:
                owner = parse_domain(owner_text, origin, allow_wildcard=True)
            except RdataError as exc:
                self.add(line, field, str(exc))
                continue
            if not owner.is_subdomain_of(origin):
                self.add(line, field, f"{owner.text} is outside the zone {origin.text}")
                continue
            if owner.wire in first_line:
                other, other_line = first_line[owner.wire]
                self.add(line, field, f"the same name as '{other}' on line {other_line}")
                continue
            first_line[owner.wire] = (owner_text, line)
            node = self.node(owner, value, field, line, origin, default_ttl)
            if node is not None:
                nodes[owner.wire] = node
        return nodes

    def node(self, owner: Name, value: Any, field: str, line: int, origin: Name, default_ttl: int) -> Node | None:
        if not isinstance(value, YMap):
            self.add(line, field, "must be a mapping of record types to values, e.g. {A: 192.0.2.1}")
            return None
        ttl = default_ttl
        own_ttl: int | None = None
        if "ttl" in value:
            own_ttl = self.ttl(value["ttl"], value.line_of("ttl"), f"{field}.ttl")
            ttl = own_ttl if own_ttl is not None else ttl
        service: str | None = None
        rrsets: dict[int, RRset] = {}
        for key, data in value.items():
            key_line = value.line_of(key)
            if key == "ttl":
                continue
            if key == "service":
                if not isinstance(data, str) or not data:
                    self.add(key_line, f"{field}.service", "must name a service")
                else:
                    service = data
                continue
            rtype = STATIC_TYPES.get(key)
            if rtype is None:
                hint = f" (record types are upper case: {key.upper()})" if key.upper() in STATIC_TYPES else ""
                known = ", ".join([*STATIC_TYPES, "ttl", "service"])
                self.add(key_line, f"{field}.{key}", f"unknown key{hint} (expected one of: {known})")
                continue
            rrset = self.rrset(owner, rtype, data, f"{field}.{key}", key_line, origin, ttl, value)
            if rrset is not None:
                rrsets[rtype] = rrset
        if owner == origin and RRType.NS in rrsets:
            self.add(value.line_of("NS"), f"{field}.NS", "the apex name servers are set by the top-level 'ns'")
            del rrsets[RRType.NS]
        if RRType.CNAME in rrsets and (len(rrsets) > 1 or service is not None):
            others = [RRType(t).name for t in rrsets if t != RRType.CNAME] + (["service"] if service else [])
            self.add(value.line_of("CNAME"), f"{field}.CNAME",
                     f"a CNAME cannot stand beside other data ({', '.join(others)}) (RFC 1034 section 3.6.2)")
        if RRType.CNAME in rrsets and owner == origin:
            self.add(value.line_of("CNAME"), f"{field}.CNAME", "the zone apex cannot be a CNAME")
        if service is not None and (RRType.A in rrsets or RRType.AAAA in rrsets):
            self.add(value.line_of("service"), f"{field}.service",
                     "a steered name cannot also have static A or AAAA records")
        if owner.labels and owner.labels[0] == b"*" and RRType.NS in rrsets:
            self.add(value.line_of("NS"), f"{field}.NS", "a wildcard cannot be a delegation (RFC 4592 section 4.2)")
        return Node(owner, rrsets, service, own_ttl, line)

    def rrset(
        self, owner: Name, rtype: int, data: Any, field: str, line: int, origin: Name, ttl: int, parent: YMap
    ) -> RRset | None:
        values = data if isinstance(data, list) else [data]
        if not values:
            self.add(line, field, "needs at least one value")
            return None
        if rtype == RRType.CNAME and len(values) > 1:
            self.add(line, field, "a name can have only one CNAME")
            return None
        rdatas = []
        seen: set[str] = set()
        for index, item in enumerate(values):
            item_field = f"{field}[{index}]" if isinstance(data, list) else field
            item_line = data.line_of(index) if isinstance(data, YList) else line
            try:
                rdata = parse_rdata(rtype, item, origin)
            except RdataError as exc:
                self.add(item_line, item_field, str(exc))
                continue
            if rdata.text in seen:
                self.add(item_line, item_field, f"duplicate value {rdata.text}")
                continue
            seen.add(rdata.text)
            rdatas.append(rdata)
            if isinstance(rdata, HintedRdata):
                self.hinted.append((rdata, item_line, item_field))
        if not rdatas:
            return None
        return RRset(owner, rtype, ttl, tuple(rdatas))

    # -- whole-tree checks ---------------------------------------------------------------

    @staticmethod
    def existing_names(nodes: dict[bytes, Node], origin: Name) -> frozenset[bytes]:
        """Owner names plus every empty non-terminal between them and the apex."""
        existing: set[bytes] = set()
        for node in nodes.values():
            name = node.name
            while len(name) >= len(origin) and name.wire not in existing:
                existing.add(name.wire)
                if name == origin:
                    break
                name = name.parent()
        return frozenset(existing)

    def check_tree(self, nodes: dict[bytes, Node], origin: Name, cuts: frozenset[bytes], ns: list[Name]) -> None:
        """Data below a delegation must be glue; in-zone name servers need addresses."""
        for node in nodes.values():
            cut = self.cut_above(node.name, origin, cuts)
            if cut is None:
                continue
            extra = [RRType(t).name for t in node.rrsets if t not in (RRType.A, RRType.AAAA)]
            if extra or node.service:
                self.add(node.line, f"records.{node.name.relative_to(origin)}",
                         f"below the delegation at {cut.text}: only glue (A, AAAA) may be here")
        for wire in cuts:
            delegation = nodes[wire]
            extra = [RRType(t).name for t in delegation.rrsets if t not in DELEGATION_TYPES]
            if extra or delegation.service:
                self.add(delegation.line, f"records.{delegation.name.relative_to(origin)}",
                         f"a delegation may hold only NS, DS and glue (A, AAAA), not "
                         f"{', '.join(extra or ['service'])}")
            for rdata in delegation.rrsets[RRType.NS].rdatas:
                target = rdata.target
                assert target is not None
                if target.is_subdomain_of(delegation.name) and not self.has_address(nodes, target):
                    self.add(delegation.line, f"records.{delegation.name.relative_to(origin)}.NS",
                             f"{target.text} is inside the delegation and needs glue (an A or AAAA record)")
        for name, (index, line) in zip(ns, self.ns_where, strict=True):
            if name.is_subdomain_of(origin) and not self.has_address(nodes, name):
                self.add(line, f"ns[{index}]",
                         f"{name.text} is inside the zone but has no A or AAAA record")

    @staticmethod
    def cut_above(name: Name, origin: Name, cuts: frozenset[bytes]) -> Name | None:
        probe = name
        while len(probe) > len(origin):
            probe = probe.parent()
            if probe.wire in cuts and probe != origin:
                return probe
        return None

    @staticmethod
    def has_address(nodes: dict[bytes, Node], name: Name) -> bool:
        node = nodes.get(name.wire)
        return node is not None and (RRType.A in node.rrsets or RRType.AAAA in node.rrsets or bool(node.service))
