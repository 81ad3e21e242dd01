"""Record data as the server holds it: wire pieces ready to write, plus the text form.

Built once when a zone loads (or a steered answer is chosen) and written many times, so each
`Rdata` keeps its encoded bytes; names inside it stay `Name` pieces so the writer may compress
them (RFC 3597 section 4 allows it only for the well-known types that use them).
"""

from __future__ import annotations

from dataclasses import dataclass

from gslb.wire.name import Name


@dataclass(frozen=True, slots=True)
class Rdata:
    """One record's data: wire pieces (a `Name` piece may be compressed) and its text form.

    `target` is the name whose addresses belong in the additional section (NS, MX, SRV).
    """

    parts: tuple[bytes | Name, ...]
    text: str
    target: Name | None = None


@dataclass(frozen=True, slots=True)
class RRset:
    name: Name
    rtype: int
    ttl: int
    rdatas: tuple[Rdata, ...]
    rclass: int = 1  # IN; CHAOS answers (id.server) use 3

    def with_rdatas(self, rdatas: tuple[Rdata, ...]) -> RRset:
        """The same owner, type and TTL with other data (a steered answer in another order)."""
        return RRset(self.name, self.rtype, self.ttl, rdatas, self.rclass)

    def renamed(self, name: Name) -> RRset:
        """The same data under another owner (wildcard synthesis, RFC 4592)."""
        return RRset(name, self.rtype, self.ttl, self.rdatas, self.rclass)
