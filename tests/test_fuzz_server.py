"""Fuzzing: ECS options (RFC 7871), 100,000 hostile packets over the real server, zone files.

The packet flood is a seeded generator, not hypothesis: bulk is the point. It mixes random
bytes, mutated valid queries, truncated queries and random records behind a valid header, sent
in batches of 200 over UDP; after each batch a sync query waits for its answer, so the server
really parses every packet instead of the kernel dropping them from a full socket buffer.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.corpus import seed_queries
from gslb.config.model import DnsConfig
from gslb.dns.handler import QueryHandler, ServingState
from gslb.engine.resolver import Resolver
from gslb.engine.respond import Responder
from gslb.geo.database import GeoDatabase
from gslb.steering.engine import SteeringEngine
from gslb.zones.directory import load_zone_paths, zone_files
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import load_zone_file
from gslb.zones.model import Zone
from gslb.zones.zoneset import ZoneSet
from tests.handler_errors import no_internal_errors
from tests.harness import RunningServer, start_server
from tests.testdata import EXAMPLE_ZONES, built_test_geodb

FAMILY_BITS = {1: 32, 2: 128}
ECS_NAMES = ["www.example.com", "api.example.com", "legacy.example.com", "nothing.example.com"]


def _handler() -> QueryHandler:
    report = load_zone_paths(zone_files(Path(EXAMPLE_ZONES)))
    steering = SteeringEngine(GeoDatabase.open(str(built_test_geodb())))
    return QueryHandler(ServingState(ZoneSet(report.loaded)), Responder(Resolver(steering)), DnsConfig())


HANDLER = _handler()


# -- ECS options (RFC 7871 section 7.1.1) ----------------------------------------------------


def ecs_is_valid(data: bytes) -> bool:
    """The RFC's rules, written again independently of gslb.wire.edns."""
    if len(data) < 4:
        return False
    family, source, scope = struct.unpack("!HBB", data[:4])
    bits = FAMILY_BITS.get(family)
    if bits is None or source > bits or scope != 0:
        return False
    address = data[4:]
    if len(address) != -(-source // 8):
        return False
    value = int.from_bytes(address.ljust(bits // 8, b"\x00"), "big")
    return value & ((1 << (bits - source)) - 1) == 0


@st.composite
def ecs_payloads(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["valid", "valid", "near", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=24))
    if kind == "valid":
        family = draw(st.sampled_from([1, 2]))
        source = draw(st.integers(0, FAMILY_BITS[family]))
        scope = 0
    else:
        family = draw(st.sampled_from([0, 1, 2, 3, 0xFFFF]))
        source = draw(st.one_of(st.integers(0, 33), st.integers(0, 255)))
        scope = draw(st.sampled_from([0, 0, 1, 24, 255]))
    bits = FAMILY_BITS.get(family, 32)
    length = -(-min(source, bits) // 8)
    if kind == "near":
        length = max(0, length + draw(st.sampled_from([0, 0, -1, 1])))
    address = bytearray(draw(st.binary(min_size=length, max_size=length)))
    if address and (kind == "valid" or draw(st.booleans())):
        spare = length * 8 - source  # clear the bits beyond the prefix
        if 0 < spare < 8:
            address[-1] &= 0xFF << spare & 0xFF
    return struct.pack("!HBB", family, source, scope) + bytes(address)


def _ecs_query(name: str, payloads: list[bytes]) -> bytes:
    options = [dns.edns.GenericOption(dns.edns.ECS, payload) for payload in payloads]
    return dns.message.make_query(name, "A", use_edns=0, options=options).to_wire()


def _check_ecs_reply(payloads: list[bytes], reply_wire: bytes | None) -> None:
    assert reply_wire is not None
    reply = dns.message.from_wire(reply_wire)
    assert reply.edns == 0  # OPT is always echoed to an EDNS query
    echoed = [option for option in reply.options if option.otype == dns.edns.ECS]
    if len(payloads) != 1 or not ecs_is_valid(payloads[0]):
        assert reply.rcode() == dns.rcode.FORMERR
        assert echoed == []  # an invalid option is never echoed
        return
    assert reply.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    (option,) = echoed
    family, source, _ = struct.unpack("!HBB", payloads[0][:4])
    sent_address = payloads[0][4:]
    assert option.family == family and option.srclen == source
    packed = ipaddress.ip_address(option.address).packed
    assert packed[: len(sent_address)] == sent_address  # the address as sent
    assert 0 <= option.scopelen <= FAMILY_BITS[family]
    if source == 0:
        assert option.scopelen == 0


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(ECS_NAMES), st.lists(ecs_payloads(), min_size=1, max_size=2))
def test_ecs_options_get_formerr_or_a_correct_echo(name: str, payloads: list[bytes]) -> None:
    wire = _ecs_query(name, payloads)
    with no_internal_errors():
        reply = HANDLER.handle(wire, ipaddress.ip_address("127.0.0.1"), False)
    _check_ecs_reply(payloads, reply)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(ECS_NAMES), ecs_payloads())
def test_ecs_options_over_the_real_server(example_server: RunningServer, name: str, payload: bytes) -> None:
    wire = _ecs_query(name, [payload])
    _check_ecs_reply([payload], example_server.raw_udp(wire, timeout=2.0))
    assert "internal error" not in example_server.log_text()  # the server's handler logs a crash there


# -- 100,000 packets over UDP ----------------------------------------------------------------


def _corpus() -> list[bytes]:
    queries = [*seed_queries(), dns.message.make_query("example.com", "AXFR")]
    return [query.to_wire() for query in queries]


CORPUS = _corpus()


def hostile_packets(seed: int, count: int) -> Iterator[bytes]:
    """Random bytes, mutated and truncated valid queries, and junk records behind a valid header."""
    rng = random.Random(seed)
    for _ in range(count):
        kind = rng.random()
        if kind < 0.2:
            yield rng.randbytes(rng.choice((rng.randrange(0, 16), rng.randrange(0, 600), rng.randrange(0, 4000))))
        elif kind < 0.6:
            packet = bytearray(rng.choice(CORPUS))
            packet[2] &= 0x7F  # mostly queries, so the parser goes deep
            for _ in range(rng.randrange(1, 8)):
                operation = rng.random()
                index = rng.randrange(len(packet))
                if operation < 0.6:
                    packet[index] = rng.randrange(256)
                elif operation < 0.8:
                    packet[index] ^= 1 << rng.randrange(8)
                elif operation < 0.9:
                    packet[index:index] = rng.randbytes(rng.randrange(1, 20))
                else:
                    del packet[index : index + rng.randrange(1, 10)]
            yield bytes(packet)
        elif kind < 0.8:
            packet = rng.choice(CORPUS)
            yield packet[: rng.randrange(len(packet))]
        else:
            counts = [rng.choice((0, 1, 1, 2, 0xFFFF, rng.randrange(65536))) for _ in range(4)]
            header = struct.pack("!HHHHHH", rng.randrange(65536), rng.randrange(65536) & 0x7FFF, *counts)
            body = rng.choice(CORPUS)[12:] if rng.random() < 0.5 else b""
            yield header + body + rng.randbytes(rng.randrange(0, 300))


def _blast(
    server: RunningServer, packets: Iterator[bytes], sources: list[str], batch: int = 200
) -> tuple[int, int]:
    """Send every packet, `batch` at a time, each batch followed by a sync query.

    Returns how many packets were sent and how many replies came back to them.
    """
    socks = []
    for source in sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sock.bind((source, 0))
        socks.append(sock)
    target = (server.host, server.port)
    sent = replies = 0
    sync_round = 0
    try:
        while True:
            chunk = [packet for _, packet in zip(range(batch), packets, strict=False)]
            if not chunk:
                return sent, replies
            for index, packet in enumerate(chunk):
                socks[index % len(socks)].sendto(packet, target)
            sent += len(chunk)
            sync_round += 1
            _sync(target, sync_round)
            for sock in socks:  # everything answered is in by now
                sock.setblocking(False)
                try:
                    while sock.recv(65535):
                        replies += 1
                except BlockingIOError:
                    pass
    finally:
        for sock in socks:
            sock.close()


def _sync(target: tuple[str, int], round_: int) -> None:
    """Wait until the server has answered everything sent before (it reads in order).

    Each round asks from a /24 of its own, so rate limiting never holds the sync query back.
    """
    query = dns.message.make_query("legacy.example.com", "A", use_edns=False)
    query.id = round_ & 0xFFFF
    wire = query.to_wire()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((f"127.{12 + round_ // 256}.{round_ % 256}.1", 0))
        sock.sendto(wire, target)
        deadline = time.monotonic() + 5
        sock.settimeout(1)
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65535)
            except TimeoutError:
                sock.sendto(wire, target)  # not lost in practice on loopback, but never hang on it
                continue
            if data[:2] == wire[:2] and data[12 : len(wire)] == wire[12:]:
                return
    raise AssertionError("the server stopped answering during the flood")


def _assert_still_healthy(server: RunningServer) -> None:
    reply = server.ask("www.example.com", "A")
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer
    assert server.tcp(dns.message.make_query("legacy.example.com", "A")).rcode() == dns.rcode.NOERROR
    assert server.alive()
    log = server.log_text()
    assert "internal error" not in log and "Traceback" not in log, log[-3000:]


def test_100000_hostile_packets_over_udp(example_server: RunningServer) -> None:
    started = time.monotonic()
    sent, replies = _blast(example_server, hostile_packets(seed=20240611, count=100_000), ["127.0.0.1"])
    assert sent == 100_000
    # Every packet was read and parsed (not lost in a full socket buffer): most deserve a reply.
    assert replies > 50_000, replies
    _assert_still_healthy(example_server)
    assert time.monotonic() - started < 30


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("fuzz-rrl")
    rate_limit = {"responses_per_second": 2, "window": "1s", "slip": 2}
    server = start_server(workdir, EXAMPLE_ZONES, {"dns": {"rate_limit": rate_limit}})
    yield server
    server.stop()


def test_hostile_packets_with_rate_limiting_on(limited_server: RunningServer) -> None:
    sources = [f"127.10.{i}.{j}" for i in range(8) for j in (1, 2)]
    sent, replies = _blast(limited_server, hostile_packets(seed=7, count=20_000), sources)
    assert sent == 20_000
    assert 0 < replies < 10_000, replies  # most replies were limited
    _assert_still_healthy(limited_server)


# -- zone files ------------------------------------------------------------------------------

EXAMPLE_TEXT = (EXAMPLE_ZONES / "example.com.yaml").read_text()
ZONE_DIR = Path(tempfile.mkdtemp(prefix="gslb-zonefuzz-"))
ZONE_KEYS = [
    "zone", "ttl", "soa", "ns", "records", "datacenters", "checks", "pools", "services", "primary",
    "contact", "refresh", "retry", "expire", "minimum", "serial", "location", "datacenter", "check",
    "members", "address", "weight", "min_healthy", "initial", "method", "map", "default", "pools",
    "answers", "max", "bias", "sticky", "all_down", "type", "port", "path", "host", "interval",
    "timeout", "rise", "fall", "expect_status", "expect_body", "A", "AAAA", "CNAME", "MX", "TXT",
    "NS", "SRV", "PTR", "CAA", "service", "www", "@", "*", "*.x", "KR", "asia", "cidr",
]
SCALARS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    st.sampled_from([
        "192.0.2.1", "2001:db8::1", "10.0.0.0/8", "example.com.", "www", "@", "seoul", "web", "geo",
        "weighted", "nearest", "failover", "http", "tcp", "5s", "-1s", "1e999", "0x10", "NO", "*",
        "10 mail.example.com.", '0 issue "x"', "a" * 300, "..", "\\000", "fail-open", "servfail",
    ]),
)
YAMLISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(ZONE_KEYS), children, max_size=5),
    ),
    max_leaves=25,
)


def _load(text: bytes) -> None:
    path = ZONE_DIR / "example.com.yaml"
    path.write_bytes(text)
    try:
        zone = load_zone_file(path)
    except ZoneFileError as exc:
        assert exc.problems  # every rejection says why
        for problem in exc.problems:
            assert str(problem).startswith(str(path))
    else:
        assert isinstance(zone, Zone)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(ZONE_KEYS), YAMLISH, max_size=8), st.booleans())
def test_random_yaml_documents_are_loaded_or_rejected(document: dict, with_zone: bool) -> None:
    if with_zone:
        document = {"zone": "example.com.", **document}
    _load(yaml.safe_dump(document, allow_unicode=True).encode())


@st.composite
def mutated_zone(draw: st.DrawFn) -> bytes:
    lines = EXAMPLE_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "replace", "chars", "swap"]))
        line = lines[index]
        if operation == "delete":
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, line)
        elif operation == "indent":
            lines[index] = "  " + line
        elif operation == "dedent":
            lines[index] = line[2:]
        elif operation == "replace" and ":" in line:
            key, _, _ = line.partition(":")
            value = draw(st.one_of(SCALARS.map(lambda v: yaml.safe_dump(v).splitlines()[0]), st.text(max_size=12)))
            lines[index] = f"{key}: {value}"
        elif operation == "chars" and line:
            position = draw(st.integers(0, len(line)))
            lines[index] = line[:position] + draw(st.text(max_size=4)) + line[position + 1 :]
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        if not lines:
            lines = [""]
    text = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.binary(max_size=8)) + text[cut + 8 :]
    return text


@settings(max_examples=600, deadline=None)
@given(mutated_zone())
def test_mutated_example_zones_are_loaded_or_rejected(text: bytes) -> None:
    _load(text)


def test_the_unmutated_example_zone_loads() -> None:
    _load(EXAMPLE_TEXT.encode())
    assert isinstance(load_zone_file(ZONE_DIR / "example.com.yaml"), Zone)


# -- the atheris harness stays runnable --------------------------------------------------------


def test_the_atheris_harness_runs_without_atheris() -> None:
    import importlib.util

    from tests.testdata import ROOT

    spec = importlib.util.spec_from_file_location("fuzz_query", ROOT / "fuzz" / "fuzz_query.py")
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    try:
        with no_internal_errors():  # the harness checks this itself; this holds if it stops doing so
            for seed in harness._seeds():
                harness.TestOneInput(seed)
            for packet in hostile_packets(seed=3, count=2000):
                harness.TestOneInput(packet)
    finally:
        logging.getLogger("gslb").removeHandler(harness.ERRORS)
