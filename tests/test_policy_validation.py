"""Validation of the steering sections (datacenters, checks, pools, services): exact messages.

Each zone text is written to `example.com.yaml` in a temporary folder and loaded with
`load_zone_file`; a rejection is compared as the full `file:line: field: message` strings, in
the order the loader reports them (by line). Every text starts with the two lines of `HEAD`, so
the first line of a test's body is line 3 of the file; the comments give each line's number.
"""

from __future__ import annotations

import ipaddress
import textwrap
from pathlib import Path

import pytest

from gslb.wire.name import Name
from gslb.zones.errors import ZoneFileError
from gslb.zones.loader import load_zone_file
from gslb.zones.model import Zone
from gslb.zones.policy_model import Policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "zones" / "example.com.yaml"

HEAD = "zone: example.com\nns: [ns1.example.net.]\n"

POOL_KEYS = "datacenter, check, members, min_healthy, initial"
SERVICE_KEYS = "method, ttl, map, pools, bias, sticky, answers, all_down"
METHODS = "geo, nearest, weighted, failover, cidr, all, latency, least-loaded"
CONTINENTS = "africa, antarctica, asia, europe, north-america, oceania, south-america"
WEIGHT = "is not a whole number >= 0 (0: standby)"
NOT_A_NETWORK = "is not a network in CIDR form (e.g. 10.0.0.0/8 or 2001:db8::/32)"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "example.com.yaml"
    path.write_text(HEAD + textwrap.dedent(body))
    return path


def rejected(tmp_path: Path, body: str) -> list[str]:
    """Load a zone that must fail; every problem as printed."""
    path = write(tmp_path, body)
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(path)
    assert info.value.file == str(path)
    return [str(problem) for problem in info.value.problems]


def at(tmp_path: Path, line: int, text: str) -> str:
    """One expected problem: `<file>:<line>: <field>: <message>`."""
    return f"{tmp_path / 'example.com.yaml'}:{line}: {text}"


def loaded(tmp_path: Path, body: str) -> Zone:
    return load_zone_file(write(tmp_path, body))


def policy_of(tmp_path: Path, body: str) -> Policy:
    policy = loaded(tmp_path, body).policy
    assert policy is not None
    return policy


# -- datacenters -----------------------------------------------------------------------------


def test_datacenter_unknown_key(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          seoul:
            location: [37.57, 126.98]
            region: asia
        """)
    assert problems == [at(tmp_path, 6, "datacenters.seoul.region: unknown key (expected one of: location)")]


def test_datacenter_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          seoul: [37.57, 126.98]
        """)
    assert problems == [at(tmp_path, 4, "datacenters.seoul: must be a mapping with: location")]


def test_datacenters_section_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters: [seoul, tokyo]
        """)
    assert problems == [at(tmp_path, 3, "datacenters: must be a mapping of names to settings")]


def test_latitude_out_of_range(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          north: {location: [90.5, 0]}
          south:
            location: [-91, 10]
        """)
    assert problems == [
        at(tmp_path, 4, "datacenters.north.location: latitude 90.5 is out of range (-90 to 90)"),
        at(tmp_path, 6, "datacenters.south.location: latitude -91 is out of range (-90 to 90)"),
    ]


def test_longitude_out_of_range(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          east: {location: [0, 180.5]}
          west: {location: [0, -181]}
        """)
    assert problems == [
        at(tmp_path, 4, "datacenters.east.location: longitude 180.5 is out of range (-180 to 180)"),
        at(tmp_path, 5, "datacenters.west.location: longitude -181 is out of range (-180 to 180)"),
    ]


def test_latitude_and_longitude_both_out_of_range_are_both_reported(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          swapped: {location: [126.98, 237.57]}
        """)
    assert problems == [
        at(tmp_path, 4, "datacenters.swapped.location: latitude 126.98 is out of range (-90 to 90)"),
        at(tmp_path, 4, "datacenters.swapped.location: longitude 237.57 is out of range (-180 to 180)"),
    ]


def test_coordinates_malformed(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          one: {location: [37.57]}
          three: {location: [37.57, 126.98, 10]}
          text: {location: "37.57, 126.98"}
          named: {location: seoul}
          empty: {location: []}
        """)
    assert problems == [
        at(tmp_path, 4, "datacenters.one.location: '[37.57]' is not [latitude, longitude]"),
        at(tmp_path, 5, "datacenters.three.location: '[37.57, 126.98, 10]' is not [latitude, longitude]"),
        at(tmp_path, 6, "datacenters.text.location: '37.57, 126.98' is not [latitude, longitude]"),
        at(tmp_path, 7, "datacenters.named.location: 'seoul' is not [latitude, longitude]"),
        at(tmp_path, 8, "datacenters.empty.location: '[]' is not [latitude, longitude]"),
    ]


def test_coordinates_at_the_limits_and_no_location_are_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        datacenters:
          pole: {location: [90, 180]}
          other-pole: {location: [-90, -180]}
          integers: {location: [37, 127]}
          somewhere: {}
        """)
    assert policy.datacenters["pole"].location == (90.0, 180.0)
    assert policy.datacenters["other-pole"].location == (-90.0, -180.0)
    assert policy.datacenters["integers"].location == (37.0, 127.0)
    assert policy.datacenters["somewhere"].location is None


# -- checks ----------------------------------------------------------------------------------


def test_check_unknown_field_points_at_the_field(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web:
            type: http
            port: 80
            colour: red
        """)
    assert problems == [at(tmp_path, 7, "checks.web.colour: unknown field")]


def test_check_field_not_applying_to_its_type(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          api:
            type: tcp
            port: 443
            path: /healthz
          resolver: {type: dns, expect_body: ok}
          off: {type: none, port: 80}
        """)
    assert problems == [
        at(tmp_path, 7, "checks.api.path: does not apply to a tcp check"),
        at(tmp_path, 8, "checks.resolver.expect_body: does not apply to a dns check"),
        at(tmp_path, 9, "checks.off.port: does not apply to a none check"),
    ]


def test_check_bad_durations_point_at_their_line(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          words:
            type: tcp
            port: 443
            interval: fast
          zero:
            type: tcp
            port: 443
            timeout: 0
          negative: {type: tcp, port: 443, interval: -1s}
          too-long: {type: tcp, port: 443, interval: 2d}
          flag: {type: tcp, port: 443, timeout: true}
        """)
    assert problems == [
        at(tmp_path, 7, "checks.words.interval: 'fast' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)"),
        at(tmp_path, 11, "checks.zero.timeout: 0.0 is not a number of seconds in (0, 3600]"),
        at(tmp_path, 12, "checks.negative.interval: '-1s' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)"),
        at(tmp_path, 13, "checks.too-long.interval: '2d' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)"),
        at(tmp_path, 14, "checks.flag.timeout: True is not a duration"),
    ]


def test_check_type_missing_points_at_the_check(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web:
            port: 80
            path: /healthz
        """)
    assert problems == [at(tmp_path, 4, "checks.web.type: required")]


def test_check_type_unknown(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          ping: {type: icmp}
        """)
    assert problems == [at(tmp_path, 4, "checks.ping.type: 'icmp' is not one of http, https, tcp, dns, none")]


def test_tcp_check_needs_a_port(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          api:
            type: tcp
            interval: 3s
        """)
    assert problems == [at(tmp_path, 4, "checks.api.port: required for a tcp check")]


def test_check_status_list_error_points_at_expect_status(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web:
            type: http
            expect_status: [200, 99]
        """)
    assert problems == [at(tmp_path, 6, "checks.web.expect_status[1]: 99 is not an HTTP status code (100-599)")]


def test_check_name_is_not_a_zone_field(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web:
            type: http
            name: other
        """)
    assert problems == [at(tmp_path, 6, "checks.web.name: unknown field")]


def test_check_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web: http
        """)
    assert problems == [at(tmp_path, 4, "checks.web: must be a mapping (type, port, path, interval, ...)")]


def test_unknown_check_name_in_a_pool(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web-http: {type: http}
        pools:
          p:
            check: web-https
            members: [127.0.0.1]
        """)
    assert problems == [at(tmp_path, 7, "pools.p.check: unknown check 'web-https'")]


def test_a_broken_check_is_not_also_unknown_in_its_pools(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        checks:
          web-http: {type: http, colour: red}
        pools:
          p: {check: web-http, members: [127.0.0.1]}
          q: {check: web-http, members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 4, "checks.web-http.colour: unknown field")]


def test_inline_check_errors_point_at_the_field(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1]
            check:
              type: tcp
              port: 443
              interval: soon
          q:
            members: [127.0.0.2]
            check: {port: 80}
          r:
            members: [127.0.0.3]
            check: {type: https, expect_status: [200, 600]}
        """)
    assert problems == [
        at(tmp_path, 9, "pools.p.check.interval: 'soon' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)"),
        at(tmp_path, 12, "pools.q.check.type: required"),
        at(tmp_path, 15, "pools.r.check.expect_status[1]: 600 is not an HTTP status code (100-599)"),
    ]


def test_inline_check_type_none_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        pools:
          p: {members: [127.0.0.1], check: {type: none}}
          q: {members: [127.0.0.2], check: {type: tcp, port: 8080, interval: 500ms}}
          r: {members: [127.0.0.3]}
        """)
    check = policy.pools["p"].check
    assert check is not None and check.type == "none" and not check.probed
    inline = policy.pools["q"].check
    assert inline is not None and (inline.type, inline.port, inline.interval) == ("tcp", 8080, 0.5)
    assert inline.name is None
    assert policy.pools["r"].check is None


# -- pools -----------------------------------------------------------------------------------


def test_pool_unknown_key(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1]
            weight: 2
        """)
    assert problems == [at(tmp_path, 6, f"pools.p.weight: unknown key (expected one of: {POOL_KEYS})")]


def test_pool_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p: [127.0.0.1]
        """)
    assert problems == [at(tmp_path, 4, f"pools.p: must be a mapping with: {POOL_KEYS}")]


def test_member_unknown_key(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members:
              - 127.0.0.1
              - {address: 127.0.0.2, wieght: 2}
        """)
    assert problems == [
        at(tmp_path, 7, "pools.p.members[1].wieght: unknown key (expected one of: address, weight)"),
    ]


def test_unknown_datacenter_in_a_pool(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          seoul: {location: [37.57, 126.98]}
        pools:
          p:
            datacenter: busan
            members: [127.0.0.1]
          q: {datacenter: 5, members: [127.0.0.2]}
        """)
    assert problems == [
        at(tmp_path, 7, "pools.p.datacenter: unknown datacenter 'busan'"),
        at(tmp_path, 9, "pools.q.datacenter: unknown datacenter '5'"),
    ]


def test_a_broken_datacenter_is_not_also_unknown_in_its_pools(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        datacenters:
          seoul: {location: [137.57, 126.98]}
        pools:
          p: {datacenter: seoul, members: [127.0.0.1]}
        services:
          s: {method: nearest, pools: [p]}
        """)
    assert problems == [at(tmp_path, 4, "datacenters.seoul.location: latitude 137.57 is out of range (-90 to 90)")]


def test_members_empty_list(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            datacenter: seoul
            members: []
        datacenters:
          seoul: {}
        """)
    assert problems == [at(tmp_path, 6, "pools.p.members: needs a list of at least one member address")]


def test_members_missing_points_at_the_pool(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            datacenter: seoul
            min_healthy: 1
          q: {members: 127.0.0.1}
        datacenters:
          seoul: {}
        """)
    assert problems == [
        at(tmp_path, 4, "pools.p.members: needs a list of at least one member address"),
        at(tmp_path, 7, "pools.q.members: needs a list of at least one member address"),
    ]


def test_a_pool_without_members_is_not_also_unknown_in_services(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p: {members: []}
        services:
          s: {method: failover, pools: [p]}
        """)
    assert problems == [at(tmp_path, 4, "pools.p.members: needs a list of at least one member address")]


def test_member_bad_address(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members:
              - 127.0.0.1
              - 127.0.0.300
              - {address: "::1::2"}
              - {weight: 2}
              - 8
              - {address: 127.0.0.2, weight: 1}
        """)
    assert problems == [
        at(tmp_path, 7, "pools.p.members[1]: '127.0.0.300' is not an IP address"),
        at(tmp_path, 8, "pools.p.members[2].address: '::1::2' is not an IP address"),
        at(tmp_path, 9, "pools.p.members[3].address: required"),
        at(tmp_path, 10, "pools.p.members[4]: '8' is not an IP address"),
    ]


def test_member_duplicate_address(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members:
              - 127.0.0.1
              - "::1"
              - {address: 127.0.0.1, weight: 3}
              - "0:0::1"
        """)
    assert problems == [
        at(tmp_path, 8, "pools.p.members[2].address: 127.0.0.1 is listed twice"),
        at(tmp_path, 9, "pools.p.members[3]: ::1 is listed twice"),
    ]


def test_member_negative_weight(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members:
              - address: 127.0.0.1
                weight: -1
        """)
    assert problems == [at(tmp_path, 7, f"pools.p.members[0].weight: '-1' {WEIGHT}")]


def test_member_non_integer_weight(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members:
              - {address: 127.0.0.1, weight: 1.5}
              - {address: 127.0.0.2, weight: heavy}
              - {address: 127.0.0.3, weight: true}
        """)
    assert problems == [
        at(tmp_path, 6, f"pools.p.members[0].weight: '1.5' {WEIGHT}"),
        at(tmp_path, 7, f"pools.p.members[1].weight: 'heavy' {WEIGHT}"),
        at(tmp_path, 8, f"pools.p.members[2].weight: 'True' {WEIGHT}"),
    ]


def test_member_weight_zero_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        pools:
          p:
            members:
              - {address: 127.0.0.1, weight: 0}
              - {address: "::1", weight: 3}
              - 127.0.0.2
        """)
    members = policy.pools["p"].members
    assert [(str(m.address), m.weight) for m in members] == [("127.0.0.1", 0), ("::1", 3), ("127.0.0.2", 1)]
    assert [m.family for m in members] == [4, 6, 4]


def test_min_healthy_below_one(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1]
            min_healthy: 0
          q: {members: [127.0.0.2], min_healthy: two}
          r: {members: [127.0.0.3], min_healthy: -1}
        """)
    assert problems == [
        at(tmp_path, 6, "pools.p.min_healthy: '0' is not a whole number >= 1"),
        at(tmp_path, 7, "pools.q.min_healthy: 'two' is not a whole number >= 1"),
        at(tmp_path, 8, "pools.r.min_healthy: '-1' is not a whole number >= 1"),
    ]


def test_min_healthy_above_member_count(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1, 127.0.0.2]
            min_healthy: 3
          q: {members: [127.0.0.3], min_healthy: 2}
        """)
    assert problems == [
        at(tmp_path, 6, "pools.p.min_healthy: 3 is more than the pool's 2 members"),
        at(tmp_path, 7, "pools.q.min_healthy: 2 is more than the pool's 1 member"),
    ]


def test_min_healthy_counts_listed_members_not_only_valid_ones(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1, 127.0.0.300]
            min_healthy: 2
        """)
    assert problems == [at(tmp_path, 5, "pools.p.members[1]: '127.0.0.300' is not an IP address")]


def test_min_healthy_equal_to_member_count_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        pools:
          p: {members: [127.0.0.1, 127.0.0.2], min_healthy: 2}
        """)
    assert policy.pools["p"].min_healthy == 2


def test_initial_not_up_or_down(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        pools:
          p:
            members: [127.0.0.1]
            initial: maybe
          q: {members: [127.0.0.2], initial: true}
        """)
    assert problems == [
        at(tmp_path, 6, "pools.p.initial: 'maybe' is not up or down"),
        at(tmp_path, 7, "pools.q.initial: 'True' is not up or down"),
    ]


def test_initial_down_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        pools:
          p: {members: [127.0.0.1], initial: down}
          q: {members: [127.0.0.2]}
        """)
    assert (policy.pools["p"].initial, policy.pools["q"].initial) == ("down", "up")


# -- services: common keys -------------------------------------------------------------------

# Services come first in these texts and one valid pool `p` (or a few) follows them.


def test_service_unknown_key(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p]
            weights: {p: 1}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 7, f"services.s.weights: unknown key (expected one of: {SERVICE_KEYS})")]


def test_answers_unknown_key(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p]
            answers:
              max: 2
              min: 1
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 9, "services.s.answers.min: unknown key (expected one of: max)")]


def test_service_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 4, f"services.s: must be a mapping with: {SERVICE_KEYS}")]


def test_service_missing_method(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            pools: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 4, "services.s.method: required")]


def test_service_unknown_method(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: round-robin
            pools: [p]
          t: {method: Geo, map: {default: [p]}}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 5, f"services.s.method: 'round-robin' is not one of: {METHODS}"),
        at(tmp_path, 7, f"services.t.method: 'Geo' is not one of: {METHODS} (did you mean geo?)"),
    ]


def test_a_misspelt_method_is_reported_alone_not_also_as_an_unknown_service(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """        records:
          www: {service: web}
        services:
          web: {method: failvoer, pools: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 6, f"services.web.method: 'failvoer' is not one of: {METHODS} "
                                        "(did you mean failover?)")]


def test_a_service_with_a_bad_method_is_not_also_unknown_where_used(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s: {method: failover, pools: [t, p]}
          t: {method: random, pools: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 5, f"services.t.method: 'random' is not one of: {METHODS}")]


def test_service_key_not_applying_to_its_method(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          by-country:
            method: geo
            map: {default: [p]}
            bias: {p: 100}
          backup:
            method: failover
            pools: [p]
            map: {default: [p]}
          split:
            method: weighted
            pools: {p: 1}
            bias: {p: 5}
          geo-with-pools:
            method: geo
            pools: [p]
            map: {default: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.by-country.bias: does not apply to method geo"),
        at(tmp_path, 11, "services.backup.map: does not apply to method failover"),
        at(tmp_path, 15, "services.split.bias: does not apply to method weighted"),
        at(tmp_path, 18, "services.geo-with-pools.pools: does not apply to method geo"),
    ]


def test_bias_on_failover_is_reported_once(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p]
            bias: {elsewhere: 5}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 7, "services.s.bias: does not apply to method failover")]


def test_service_bad_ttl(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a: {method: failover, pools: [p], ttl: -1}
          b: {method: failover, pools: [p], ttl: 30s}
          c: {method: failover, pools: [p], ttl: 2147483648}
          d: {method: failover, pools: [p], ttl: 1.5}
        pools:
          p: {members: [127.0.0.1]}
        """)
    message = "is not a TTL (whole seconds from 0 to 2147483647)"
    assert problems == [
        at(tmp_path, 4, f"services.a.ttl: '-1' {message}"),
        at(tmp_path, 5, f"services.b.ttl: '30s' {message}"),
        at(tmp_path, 6, f"services.c.ttl: '2147483648' {message}"),
        at(tmp_path, 7, f"services.d.ttl: '1.5' {message}"),
    ]


def test_sticky_not_a_bool(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a: {method: failover, pools: [p], sticky: yes}
          b: {method: failover, pools: [p], sticky: 1}
          c: {method: failover, pools: [p], sticky: "true"}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 4, "services.a.sticky: 'yes' is not true or false"),
        at(tmp_path, 5, "services.b.sticky: '1' is not true or false"),
        at(tmp_path, 6, "services.c.sticky: 'true' is not true or false"),
    ]


def test_answers_max_below_one(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a:
            method: all
            pools: [p]
            answers:
              max: 0
          b: {method: all, pools: [p], answers: {max: two}}
          c: {method: all, pools: [p], answers: 4}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 8, "services.a.answers.max: '0' is not a whole number >= 1"),
        at(tmp_path, 9, "services.b.answers.max: 'two' is not a whole number >= 1"),
        at(tmp_path, 10, "services.c.answers: must be a mapping with: max"),
    ]


def test_all_down_not_a_name(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p]
            all_down: 5
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.s.all_down: '5' is not fail-open, servfail or a pool or service name"),
    ]


def test_common_keys_are_parsed(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p, q]
            ttl: 0
            sticky: false
            answers: {max: 1}
            all_down: servfail
          t: {method: all, pools: [p], all_down: q}
          u: {method: failover, pools: p}
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    s = policy.services["s"]
    assert (s.candidates, s.ttl, s.sticky, s.answers_max, s.all_down) == (("p", "q"), 0, False, 1, "servfail")
    t = policy.services["t"]
    assert (t.ttl, t.sticky, t.answers_max, t.all_down) == (None, False, None, "q")
    assert policy.services["u"].candidates == ("p",)


# -- geo -------------------------------------------------------------------------------------


def test_geo_map_missing_default_points_at_map(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: geo
            map:
              KR: [p]
              europe: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 6, "services.s.map: needs a 'default' entry for clients that match nothing else"),
    ]


def test_geo_map_missing_or_empty(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: geo
          t:
            method: geo
            map: {}
          u:
            method: geo
            map: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    message = "required: a mapping of client locations to pool lists, with a default"
    assert problems == [
        at(tmp_path, 4, f"services.s.map: {message}"),
        at(tmp_path, 8, f"services.t.map: {message}"),
        at(tmp_path, 11, f"services.u.map: {message}"),
    ]


def test_geo_map_bad_keys(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: geo
            map:
              XX: [p]
              US-ZZ: [p]
              Europe: [p]
              eu: [p]
              EU: [p]
              kr: [p]
              us-ca: [p]
              default: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    neither = f"is neither a country (KR), a subdivision (US-CA) nor a continent ({CONTINENTS})"
    assert problems == [
        at(tmp_path, 7, "services.s.map.XX: 'XX' is not an ISO 3166-1 country code"),
        at(tmp_path, 8, "services.s.map.US-ZZ: 'US-ZZ' is not an ISO 3166-2 subdivision code"),
        at(tmp_path, 9, "services.s.map.Europe: 'Europe' is not a continent (continents are lower case: europe)"),
        at(tmp_path, 10, f"services.s.map.eu: 'eu' {neither}"),
        at(tmp_path, 11, "services.s.map.EU: 'EU' is not an ISO 3166-1 country code "
                         "(continents are spelled out: europe)"),
        at(tmp_path, 12, f"services.s.map.kr: 'kr' {neither}"),
        at(tmp_path, 13, f"services.s.map.us-ca: 'us-ca' {neither}"),
    ]


def test_geo_map_namibia_and_north_america_are_both_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          s:
            method: geo
            map:
              NA: [namibia]
              north-america: [virginia, namibia]
              "NO": [p]
              US-CA: [virginia]
              KR-11: [p]
              XK: [p]
              default: p
        pools:
          p: {members: [127.0.0.1]}
          namibia: {members: [127.0.0.2]}
          virginia: {members: [127.0.0.3]}
        """)
    service = policy.services["s"]
    assert list(service.geo_map.items()) == [
        ("NA", ("namibia",)),
        ("north-america", ("virginia", "namibia")),
        ("NO", ("p",)),
        ("US-CA", ("virginia",)),
        ("KR-11", ("p",)),
        ("XK", ("p",)),
    ]
    assert service.default == ("p",)


def test_geo_map_unquoted_no_stays_norway(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          s:
            method: geo
            map: {NO: [p], default: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert list(policy.services["s"].geo_map) == ["NO"]


def test_geo_map_bad_target_lists(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: geo
            map:
              KR: []
              JP: [p, p]
              default: 5
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.s.map.KR: '[]' is not a pool or service name, or a list of them"),
        at(tmp_path, 8, "services.s.map.JP: lists the same name twice"),
        at(tmp_path, 9, "services.s.map.default: '5' is not a pool or service name, or a list of them"),
    ]


# -- cidr ------------------------------------------------------------------------------------


def test_cidr_map_bad_network(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: cidr
            map:
              10.0.0.0/33: [p]
              office: [p]
              "2001:db8::/129": [p]
              default: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, f"services.s.map.10.0.0.0/33: '10.0.0.0/33' {NOT_A_NETWORK}"),
        at(tmp_path, 8, f"services.s.map.office: 'office' {NOT_A_NETWORK}"),
        at(tmp_path, 9, f"services.s.map.2001:db8::/129: '2001:db8::/129' {NOT_A_NETWORK}"),
    ]


def test_cidr_map_host_bits_set(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: cidr
            map:
              10.1.2.3/8: [p]
              "2001:db8::1/32": [p]
              default: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.s.map.10.1.2.3/8: '10.1.2.3/8' has host bits set (the network is 10.0.0.0/8)"),
        at(tmp_path, 8, "services.s.map.2001:db8::1/32: '2001:db8::1/32' has host bits set "
                        "(the network is 2001:db8::/32)"),
    ]


def test_cidr_map_missing_default(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: cidr
            map:
              10.0.0.0/8: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 6, "services.s.map: needs a 'default' entry for clients that match nothing else"),
    ]


def test_cidr_map_is_stored_longest_prefix_first(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          s:
            method: cidr
            map:
              10.0.0.0/8: [wide]
              10.1.0.0/16: [narrow]
              "2001:db8::/32": [wide]
              10.1.2.0/24: [narrowest, narrow]
              192.0.2.7: [narrowest]
              default: [wide]
        pools:
          wide: {members: [127.0.0.1]}
          narrow: {members: [127.0.0.2]}
          narrowest: {members: [127.0.0.3]}
        """)
    service = policy.services["s"]
    prefixes = [network.prefixlen for network, _ in service.cidr_map]
    assert prefixes == sorted(prefixes, reverse=True)
    # A client only ever matches networks of its own family; within each, longest first.
    ipv4 = [(str(network), names) for network, names in service.cidr_map if network.version == 4]
    assert ipv4 == [
        ("192.0.2.7/32", ("narrowest",)),
        ("10.1.2.0/24", ("narrowest", "narrow")),
        ("10.1.0.0/16", ("narrow",)),
        ("10.0.0.0/8", ("wide",)),
    ]
    ipv6 = [network for network, _ in service.cidr_map if network.version == 6]
    assert ipv6 == [ipaddress.ip_network("2001:db8::/32")]
    assert service.default == ("wide",)


# -- pools of a service ----------------------------------------------------------------------


def test_weighted_pools_not_a_mapping(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: weighted
            pools: [p, q]
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 6, "services.s.pools: weighted needs a mapping of pool names to weights")]


def test_weighted_negative_or_non_integer_weight(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: weighted
            pools:
              p: -1
              q: 0.5
              r: 0
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
          r: {members: [127.0.0.3]}
        """)
    assert problems == [
        at(tmp_path, 7, f"services.s.pools.p: '-1' {WEIGHT}"),
        at(tmp_path, 8, f"services.s.pools.q: '0.5' {WEIGHT}"),
    ]


def test_weighted_weights_are_parsed(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          s:
            method: weighted
            pools: {p: 3, q: 0}
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    service = policy.services["s"]
    assert service.weights == {"p": 3, "q": 0}
    assert service.candidates == ("p", "q")


@pytest.mark.parametrize("method", ["failover", "nearest", "all", "latency", "least-loaded"])
def test_list_methods_with_pools_as_a_mapping(tmp_path: Path, method: str) -> None:
    problems = rejected(tmp_path, f"""\
        services:
          s:
            method: {method}
            pools: {{p: 1}}
        pools:
          p: {{members: [127.0.0.1]}}
        """)
    assert problems == [
        at(tmp_path, 6, f"services.s.pools: {method} needs a list of pool names (weights are for weighted)"),
    ]


def test_service_without_pools(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          missing:
            method: failover
          empty:
            method: all
            pools: []
          empty-weights:
            method: weighted
            pools: {}
          nothing:
            method: nearest
            pools:
        """)
    message = "required: at least one pool or service"
    assert problems == [
        at(tmp_path, 4, f"services.missing.pools: {message}"),
        at(tmp_path, 8, f"services.empty.pools: {message}"),
        at(tmp_path, 11, f"services.empty-weights.pools: {message}"),
        at(tmp_path, 14, f"services.nothing.pools: {message}"),
    ]


def test_pools_listing_a_name_twice(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p, q, p]
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 6, "services.s.pools: lists the same name twice")]


# -- references ------------------------------------------------------------------------------


def test_unknown_pool_in_a_map_points_at_the_entry(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: geo
            map:
              KR: [p, seoul]
              JP:
                - p
                - tokyo
              default: nowhere
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.s.map.KR[1]: unknown pool or service 'seoul'"),
        at(tmp_path, 10, "services.s.map.JP[1]: unknown pool or service 'tokyo'"),
        at(tmp_path, 11, "services.s.map.default: unknown pool or service 'nowhere'"),
    ]


def test_unknown_pool_in_a_cidr_map(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: cidr
            map:
              10.0.0.0/8: [office]
              default: [p]
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 7, "services.s.map.10.0.0.0/8[0]: unknown pool or service 'office'")]


def test_unknown_pool_in_pools(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools:
              - p
              - backup
          t: {method: all, pools: elsewhere}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 8, "services.s.pools[1]: unknown pool or service 'backup'"),
        at(tmp_path, 9, "services.t.pools: unknown pool or service 'elsewhere'"),
    ]


def test_unknown_pool_in_weights(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: weighted
            pools:
              p: 90
              canary: 10
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 8, "services.s.pools.canary: unknown pool or service 'canary'")]


def test_unknown_pool_in_all_down(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: failover
            pools: [p]
            all_down: sorry-page
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 7, "services.s.all_down: unknown pool or service 'sorry-page'")]


def test_pool_and_service_with_the_same_name(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          web:
            method: failover
            pools: [p]
        pools:
          web: {members: [127.0.0.1]}
          p: {members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 4, "services.web: 'web' is also a pool name (they share one namespace)")]


def test_cycle_between_two_services_is_reported_once(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a:
            method: failover
            pools: [b, p]
          b:
            method: weighted
            pools: {a: 1, p: 1}
          c: {method: all, pools: [a]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 4, "services.a: cycle: a -> b -> a")]


def test_self_cycle_is_reported_once(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a:
            method: geo
            map: {KR: [a], JP: [a, p], default: [p, a]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 4, "services.a: cycle: a -> a")]


def test_cycle_through_all_down(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          a: {method: failover, pools: [p], all_down: b}
          b: {method: failover, pools: [q], all_down: a}
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 4, "services.a: cycle: a -> b -> a")]


def test_shared_service_without_a_cycle_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          top: {method: failover, pools: [left, right]}
          left: {method: failover, pools: [shared]}
          right: {method: all, pools: [shared, p]}
          shared: {method: weighted, pools: {p: 1, q: 2}}
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert policy.services["top"].referenced() == ("left", "right")


def test_nearest_pool_without_a_location(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: nearest
            pools:
              - seoul-pool
              - unplaced
              - homeless
        datacenters:
          seoul: {location: [37.57, 126.98]}
          unknown-place: {}
        pools:
          seoul-pool: {datacenter: seoul, members: [127.0.0.1]}
          unplaced: {datacenter: unknown-place, members: [127.0.0.2]}
          homeless: {members: [127.0.0.3]}
        """)
    assert problems == [
        at(tmp_path, 8, "services.s.pools[1]: pool 'unplaced' needs a datacenter with a location for nearest"),
        at(tmp_path, 9, "services.s.pools[2]: pool 'homeless' needs a datacenter with a location for nearest"),
    ]


def test_nearest_and_latency_with_a_service_as_candidate(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          close:
            method: nearest
            pools: [p, inner]
          fast:
            method: latency
            pools: [inner, p]
          inner: {method: failover, pools: [p]}
        datacenters:
          seoul: {location: [37.57, 126.98]}
        pools:
          p: {datacenter: seoul, members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 6, "services.close.pools[1]: nearest chooses by datacenter location: 'inner' is a service"),
        at(tmp_path, 9, "services.fast.pools[0]: latency chooses by datacenter location: 'inner' is a service"),
    ]


def test_nearest_all_down_may_be_a_service_and_latency_needs_no_location(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        services:
          close: {method: nearest, pools: [p], all_down: elsewhere}
          fast: {method: latency, pools: [q]}
          elsewhere: {method: failover, pools: [q]}
        datacenters:
          seoul: {location: [37.57, 126.98]}
        pools:
          p: {datacenter: seoul, members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert policy.services["close"].all_down == "elsewhere"
    assert policy.services["fast"].candidates == ("q",)


def test_bias_for_a_pool_not_in_the_service(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: nearest
            pools: [p]
            bias:
              p: 100
              q: 500
        datacenters:
          seoul: {location: [37.57, 126.98]}
        pools:
          p: {datacenter: seoul, members: [127.0.0.1]}
          q: {datacenter: seoul, members: [127.0.0.2]}
        """)
    assert problems == [at(tmp_path, 9, "services.s.bias.q: 'q' is not one of this service's pools")]


def test_bias_malformed(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          s:
            method: nearest
            pools: [p]
            bias: {p: far}
          t:
            method: nearest
            pools: [p]
            bias: 100
        datacenters:
          seoul: {location: [37.57, 126.98]}
        pools:
          p: {datacenter: seoul, members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 7, "services.s.bias.p: 'far' is not a number of kilometres"),
        at(tmp_path, 11, "services.t.bias: must map pool names to kilometres"),
    ]


# -- names that use services -----------------------------------------------------------------


def test_name_with_an_unknown_service(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        records:
          www: {service: wbe}
        services:
          web: {method: failover, pools: [p]}
          api: {method: failover, pools: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [at(tmp_path, 4, "records.www.service: unknown service 'wbe' (services: api, web)")]


def test_name_with_a_service_in_a_zone_without_services(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        records:
          "@": {service: web}
        """)
    assert problems == [at(tmp_path, 4, "records.@.service: unknown service 'web' (the zone has no services)")]


def test_steered_name_with_static_addresses(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        records:
          www:
            service: web
            A: 127.0.0.9
          api: {service: web, AAAA: "::1", TXT: "fine"}
        services:
          web: {method: failover, pools: [p]}
        pools:
          p: {members: [127.0.0.1]}
        """)
    assert problems == [
        at(tmp_path, 5, "records.www.service: a steered name cannot also have static A or AAAA records"),
        at(tmp_path, 7, "records.api.service: a steered name cannot also have static A or AAAA records"),
    ]


# -- whole files -----------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    problems = rejected(tmp_path, """\
        services:
          web:
            method: geo
            map: {XX: [p], default: [missing]}
        pools:
          p:
            datacenter: mars
            members: [127.0.0.1, 127.0.0.1]
        datacenters:
          seoul: {location: [37.57, 226.98]}
        checks:
          c: {type: tcp}
        """)
    assert problems == [
        at(tmp_path, 6, "services.web.map.XX: 'XX' is not an ISO 3166-1 country code"),
        at(tmp_path, 6, "services.web.map.default[0]: unknown pool or service 'missing'"),
        at(tmp_path, 9, "pools.p.datacenter: unknown datacenter 'mars'"),
        at(tmp_path, 10, "pools.p.members[1]: 127.0.0.1 is listed twice"),
        at(tmp_path, 12, "datacenters.seoul.location: longitude 226.98 is out of range (-180 to 180)"),
        at(tmp_path, 14, "checks.c.port: required for a tcp check"),
    ]


def test_a_zone_without_steering_has_no_policy(tmp_path: Path) -> None:
    zone = loaded(tmp_path, """\
        records:
          www: {A: 127.0.0.1}
        """)
    assert zone.policy is None


def test_composition_a_service_as_a_candidate_is_accepted(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """\
        records:
          www: {service: web}
        services:
          web:
            method: geo
            map: {KR: [split, p], default: [backup]}
          split:
            method: weighted
            pools: {p: 9, backup: 1}
          backup: {method: failover, pools: [q, p]}
          everything: {method: all, pools: [split, backup]}
        pools:
          p: {members: [127.0.0.1]}
          q: {members: [127.0.0.2]}
        """)
    assert policy.services["web"].geo_map == {"KR": ("split", "p")}
    assert policy.services["web"].default == ("backup",)
    assert policy.services["web"].referenced() == ("split", "p", "backup")
    assert policy.services["split"].weights == {"p": 9, "backup": 1}
    assert policy.services["everything"].candidates == ("split", "backup")


def test_example_zone_loads_with_its_policy() -> None:
    zone = load_zone_file(EXAMPLE)
    policy = zone.policy
    assert policy is not None
    node = zone.node(Name.from_text("www.example.com."))
    assert node is not None and node.service == "web"

    assert policy.datacenters["seoul"].location == (37.57, 126.98)
    assert policy.datacenters["virginia"].location == (38.95, -77.45)

    web = policy.services["web"]
    assert web.method == "geo"
    assert list(web.geo_map) == ["KR", "JP", "US-CA", "asia", "europe"]
    assert web.geo_map["KR"] == ("seoul-web", "tokyo-web")
    assert web.default == ("us-split", "frankfurt-web")
    assert (web.ttl, web.answers_max, web.sticky, web.all_down) == (30, 4, False, "fail-open")

    split = policy.services["us-split"]
    assert split.method == "weighted"
    assert split.weights == {"virginia-web": 95, "canary-web": 5}

    api = policy.services["api"]
    assert api.method == "nearest"
    assert api.candidates == ("seoul-api", "frankfurt-api", "virginia-api")
    assert api.bias == {"virginia-api": 500.0}
    assert (api.ttl, api.sticky) == (20, True)

    seoul = policy.pools["seoul-web"]
    assert seoul.datacenter == "seoul"
    assert [(str(m.address), m.weight) for m in seoul.members] == [
        ("192.0.2.10", 1), ("192.0.2.11", 2), ("2001:db8:10::1", 1),
    ]
    assert seoul.min_healthy == 1
    check = seoul.check
    assert check is not None and check is policy.checks["web-http"]
    assert (check.type, check.port, check.path, check.host) == ("http", 80, "/healthz", "www.example.com")
    assert (check.expect_status, check.expect_body) == ((200,), "ok")
    assert (check.interval, check.timeout, check.rise, check.fall) == (5.0, 2.0, 2, 3)
    assert check.name == "web-http"
    api_check = policy.pools["seoul-api"].check
    assert api_check is not None
    assert (api_check.type, api_check.port, api_check.interval, api_check.timeout) == ("tcp", 443, 3.0, 1.0)
