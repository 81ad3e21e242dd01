"""What steering gives back for one name and type: the pools chosen and the records to send."""

from __future__ import annotations

from dataclasses import dataclass, field

from gslb.wire.records import RRset
from gslb.zones.policy_model import Pool


@dataclass
class Choice:
    """Pools to answer from; `forced` pools answer as if all members were up (fail-open)."""

    pools: list[tuple[Pool, bool]] = field(default_factory=list)
    degraded: bool = False  # not what the service would answer with every member up
    servfail: bool = False
    all_down: str = ""  # the all_down rule that answered: "fail-open", "all-down" (a name) or "servfail"

    @property
    def fallback(self) -> str:
        """Why this is not the all-up answer, as the metrics count it: "" when it is, else
        "fallback" (live members, just not the preferred ones) or the all_down rule."""
        return self.all_down or ("fallback" if self.degraded else "")

    def describe(self, service: str) -> str:
        """'service web -> seoul-web', for the query log."""
        if self.servfail:
            return f"service {service} -> servfail (all down)"
        pools = ", ".join(pool.name + (" (fail-open)" if forced else "") for pool, forced in self.pools)
        text = f"service {service} -> {pools or 'no pool'}"
        return text + " (fallback)" if self.degraded else text


@dataclass(frozen=True, slots=True)
class Steered:
    """A steering decision for one name and type."""

    service: str
    choice: Choice
    rrset: RRset | None  # None: no member of the asked family (NODATA)
    scope: int = 0
    # How many different replies the same question can get while zones and health stay as they
    # are: 1 (a fixed choice), k (the address order rotates over k), 0 (chance decides).
    variants: int = 1
    rotation: int = 0  # which step of the rotation this answer is (0 .. variants - 1)
    by_client: bool = False  # decided by who asks (location, address or stickiness)
    # What the counters bump for this answer, worked out once here rather than per reply:
    # (zone, service, pool, "") per pool answered from, and (zone, service, "", why) once when
    # the answer is not the all-up one (why: `Choice.fallback`). See gslb.dns.stats.
    counted: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def servfail(self) -> bool:
        return self.choice.servfail
