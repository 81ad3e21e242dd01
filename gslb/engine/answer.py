"""What the answer engine returns: sections and flags, independent of the wire format."""

from __future__ import annotations

from dataclasses import dataclass, field

from gslb.steering.steered import Steered
from gslb.wire.constants import Rcode
from gslb.wire.name import Name
from gslb.wire.records import RRset


@dataclass(slots=True)
class Answer:
    rcode: int = Rcode.NOERROR
    authoritative: bool = True
    answer: list[RRset] = field(default_factory=list)
    authority: list[RRset] = field(default_factory=list)
    additional: list[RRset] = field(default_factory=list)
    trim_index: int | None = None  # answer[trim_index] is a steered selection that may be cut to fit
    scope: int = 0  # ECS scope prefix length: 0 when the answer does not depend on the client
    zone: str = ""  # the zone answered from (for the query counters); "" when none
    # The owner that matched the question's name: the name itself, or the wildcard that
    # synthesised it (RFC 4592). None when nothing matched (NXDOMAIN, REFUSED, errors).
    owner: Name | None = None
    # How many different replies the same question can get while zones and health stay as they
    # are: 1 (static, or a deterministic choice), k (the address order rotates over k), 0 (chance).
    variants: int = 1
    rotation: int = 0  # which step of the rotation this reply is (0 .. variants - 1)
    by_client: bool = False  # steered by who asks (location, address or stickiness)
    steered: Steered | None = None  # the steering decision, when a service answered

    @property
    def counted(self) -> tuple[tuple[str, str, str, str], ...]:
        """What the steering counters bump for this answer (see `Steered.counted`)."""
        return self.steered.counted if self.steered is not None else ()
