"""Response rate limiting (RRL) for UDP: the BIND/Knot idea, with BIND's credit scheme.

A spoofed-source flood turns an authoritative server into an amplifier: small queries with the
victim's address, larger answers to the victim. RRL bounds how many *identical* responses one
client network gets per second, so the victim receives at most a trickle, while a real
resolver that happens to be caught in the flood still gets every `slip`-th response as an
empty truncated reply (TC=1) and retries over TCP, which cannot be spoofed.

**Identity.** Responses are identical when they share (client network, name, qtype, class of
response). The client network is the source /24 (IPv4, IPv4-mapped IPv6 included) or /56
(IPv6). The name and qtype depend on the class, as in BIND and Knot:

- an answer: the qname (lower-cased) and qtype, or the wildcard's owner name when the answer
  was synthesised from a wildcard, so a random-subdomain flood under a wildcard is one identity;
- NODATA: the same name, without the qtype (a flood of random types at one name is one
  identity);
- a referral: the delegation point;
- NXDOMAIN: the zone (qtype ignored), so random names in a zone share one identity;
- any error (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS): the client network alone.

`response_identity` computes the identity from the engine's `Answer` (only the answer knows
the rcode, the zone of a negative answer and the referral's cut); the handler calls it and
`RateLimiter.check` after answering and before encoding, and only for UDP (`limiter` is given
to `QueryHandler.handle` by the UDP listener alone).

**Accounts (BIND's credit scheme).** Each identity has a balance of response credits. It
starts at `responses_per_second` (a one-second burst), earns `responses_per_second` credits
per second, never holds more than one second's worth, and pays one credit per response. A
response that would take the balance below zero is *limited*: the debt still grows, down to
`-responses_per_second * window`, so the limit holds on average over `window` seconds. A
network that keeps asking faster than the rate therefore gets nothing but slips until it slows
down, and is served normally again at most `window` seconds after it stops; an account left
alone for longer than `window` is back to a full balance, which is why it can be forgotten.

**Slip.** Every `slip`-th limited response of an identity is sent as TC=1 with no records
(about the size of the query, so no amplification), the others are dropped; slip 0 never
slips, slip 1 slips every limited response.

**Memory.** At most `max_entries` accounts (100,000 by default, about 25 MB when full) are
kept, in least-recently-used order. Once a second, accounts idle for longer than `window` are
forgotten (they would be full again anyway); when the table is full, the least recently used
account is evicted (and counted in `stats.evicted`), so a flood from random spoofed networks
cannot grow the table without bound. An evicted identity starts again with a full
balance, which is the price of bounded memory (BIND's `max-table-size` behaves the same).

Only UDP is limited; TCP needs a completed handshake, so its source cannot be spoofed.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from gslb.config.model import RateLimit
from gslb.dns.stats import RateLimitStats
from gslb.engine.answer import Answer
from gslb.wire.constants import Rcode
from gslb.wire.message import Header, Question
from gslb.wire.writer import render_error

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SEND = 0  # within the limit: send the response
DROP = 1  # over the limit: send nothing
SLIP = 2  # over the limit, but this one goes out as an empty TC=1 reply

DEFAULT_MAX_ENTRIES = 100_000
SWEEP_INTERVAL = 1.0

# Response classes (the last part of an identity key).
ANSWER = 0
NODATA = 1
REFERRAL = 2
NXDOMAIN = 3
ERROR = 4

_V6_MARK = 1 << 64  # keeps an IPv6 /56 apart from an IPv4 /24 with the same number

Identity = tuple[int, bytes, int]  # (class, name or zone in wire form, qtype); the network is added by check
ERROR_IDENTITY: Identity = (ERROR, b"", 0)


class _Account:
    __slots__ = ("balance", "last", "slips")

    def __init__(self, balance: float, last: float) -> None:
        self.balance = balance
        self.last = last
        self.slips = 0


def client_network(address: IPAddress) -> int:
    """The client's /24 (IPv4 or IPv4-mapped IPv6) or /56 (IPv6) as one integer."""
    if address.version == 4:
        return int(address) >> 8
    mapped = address.ipv4_mapped  # type: ignore[union-attr]
    if mapped is not None:
        return int(mapped) >> 8
    return (int(address) >> 72) | _V6_MARK


class RateLimiter:
    """Accounts per response identity; `check` says whether a response may go out."""

    def __init__(
        self,
        config: RateLimit,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = float(config.responses_per_second)
        self.window = float(config.window)
        self.slip = int(config.slip)
        # At least one response per identity can always go out, even with a rate under 1/s.
        self.burst = max(self.rate, 1.0)
        self.floor = -self.rate * self.window
        self.max_entries = max_entries
        self.clock = clock
        self.stats = RateLimitStats()
        self._table: OrderedDict[int, _Account] = OrderedDict()
        self._next_sweep = 0.0

    def __len__(self) -> int:
        """Accounts held now (a gauge for metrics)."""
        return len(self._table)

    @property
    def entries(self) -> int:
        return len(self._table)

    def check(self, source: IPAddress, identity: Hashable) -> int:
        """SEND, DROP or SLIP for one response of `identity` to `source`, and account for it."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        stats = self.stats
        stats.responses += 1
        key = hash((client_network(source), identity))
        table = self._table
        account = table.get(key)
        if account is None:
            if len(table) >= self.max_entries:
                table.popitem(last=False)
                stats.evicted += 1
            table[key] = _Account(self.burst - 1.0, now)
            return SEND
        table.move_to_end(key)
        age = now - account.last
        account.last = now
        if age > self.window:
            balance = self.burst
            account.slips = 0
        elif age > 0:
            balance = account.balance + self.rate * age
            if balance >= self.burst:
                balance = self.burst
                account.slips = 0
        else:
            balance = account.balance
        balance -= 1.0
        if balance >= 0.0:
            account.balance = balance
            return SEND
        account.balance = balance if balance > self.floor else self.floor
        stats.limited += 1
        if self.slip:
            account.slips += 1
            if account.slips >= self.slip:
                account.slips = 0
                stats.slipped += 1
                return SLIP
        stats.dropped += 1
        return DROP

    def _sweep(self, now: float) -> None:
        """Forget accounts idle for longer than the window: they are full again anyway."""
        self._next_sweep = now + SWEEP_INTERVAL
        table = self._table
        horizon = now - self.window
        while table:
            key = next(iter(table))
            if table[key].last >= horizon:
                break
            del table[key]


def response_identity(question: Question, answer: Answer) -> Identity:
    """What makes this response identical to others for rate limiting (see the module docstring)."""
    rcode = answer.rcode
    if rcode == Rcode.NXDOMAIN:
        # The SOA in authority names the zone: random names in one zone share one account.
        return (NXDOMAIN, answer.authority[-1].name.wire if answer.authority else b"", 0)
    if rcode != Rcode.NOERROR:
        return ERROR_IDENTITY
    if not answer.answer and not answer.authoritative and answer.authority:
        return (REFERRAL, answer.authority[0].name.wire, 0)
    # The owner that matched: the wildcard's own name when the answer was synthesised from it.
    owner = answer.owner.wire if answer.owner is not None else question.name.wire
    if not answer.answer:
        return (NODATA, owner, 0)
    return (ANSWER, owner, question.qtype)


def limited_reply(
    header: Header, question: Question | None, rcode: int, opt: bytes | None, verdict: int
) -> bytes | None:
    """What goes out for a limited response: nothing (DROP) or TC=1 with no records (SLIP)."""
    if verdict != SLIP:
        return None
    return render_error(header, question, rcode, opt, truncated=True)
