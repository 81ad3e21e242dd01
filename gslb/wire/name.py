"""Domain names as the server handles them: lower-cased labels plus their wire form.

Lookups compare names case-insensitively (RFC 4343), so every `Name` keeps its labels
lower-cased; the letter case a client used is preserved separately, in the raw question
bytes that are echoed back. The uncompressed wire form doubles as a dictionary key that is
unambiguous even when a label contains a dot.
"""

from __future__ import annotations

MAX_LABEL = 63
MAX_WIRE = 255


class BadNameError(ValueError):
    """A name that cannot be a DNS name (too long, empty label, bad characters)."""


class Name:
    """An absolute domain name; immutable and hashable by its lower-cased wire form."""

    __slots__ = ("_hash", "_text", "labels", "wire")

    labels: tuple[bytes, ...]
    wire: bytes

    def __init__(self, labels: tuple[bytes, ...]) -> None:
        labels = tuple(label.lower() for label in labels)
        for label in labels:  # before encoding: a length over 255 does not fit its length byte
            if not label or len(label) > MAX_LABEL:
                raise BadNameError(f"label of {len(label)} bytes (1 to {MAX_LABEL} allowed)")
        wire = b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"
        if len(wire) > MAX_WIRE:
            raise BadNameError(f"name of {len(wire)} bytes on the wire ({MAX_WIRE} allowed)")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "wire", wire)
        object.__setattr__(self, "_hash", hash(wire))
        object.__setattr__(self, "_text", None)  # made on first use: most names are never printed

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("Name is immutable")

    def __reduce__(self) -> tuple[type[Name], tuple[tuple[bytes, ...]]]:
        """Pickled as its labels (worker processes receive zones this way)."""
        return (Name, (self.labels,))

    @classmethod
    def from_text(cls, text: str) -> Name:
        """Parse presentation form; a missing trailing dot is accepted (the name is absolute)."""
        text = text.strip()
        if text in (".", ""):
            return ROOT
        if text.endswith(".") and not text.endswith("\\."):
            text = text[:-1]
        if ".." in text:
            raise BadNameError("empty label")
        try:
            raw = tuple(part.encode("ascii") for part in text.split("."))
        except UnicodeEncodeError:
            raise BadNameError("non-ASCII characters (use the punycode xn-- form)") from None
        return cls(raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Name) and self.wire == other.wire

    def __hash__(self) -> int:
        return self._hash

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"Name({self.text!r})"

    @property
    def text(self) -> str:
        """Presentation form with a trailing dot."""
        text = self._text
        if text is None:
            labels = (label.decode("ascii", "backslashreplace") for label in self.labels)
            text = ".".join(labels) + "." if self.labels else "."
            object.__setattr__(self, "_text", text)
        return text

    def is_subdomain_of(self, other: Name) -> bool:
        """True when self equals other or lies below it."""
        n = len(other.labels)
        return n == 0 or (len(self.labels) >= n and self.labels[-n:] == other.labels)

    def parent(self) -> Name:
        return Name(self.labels[1:])

    def prepend(self, label: bytes) -> Name:
        return Name((label, *self.labels))

    def ancestors_below(self, top: Name) -> list[Name]:
        """The names strictly between `top` and self, nearest to `top` first, then self."""
        depth = len(top.labels)
        return [Name(self.labels[i:]) for i in range(len(self.labels) - depth - 1, -1, -1)]

    def relative_to(self, origin: Name) -> str:
        """Presentation form relative to origin ('@' for the origin itself)."""
        if self == origin:
            return "@"
        if not self.is_subdomain_of(origin):
            return self.text
        keep = self.labels[: len(self.labels) - len(origin.labels)]
        return ".".join(label.decode("ascii", "backslashreplace") for label in keep)


ROOT = Name(())
WILDCARD_LABEL = b"*"
