"""Signed zones for the DNSSEC tests: a parent with every kind of answer, a signed and an unsigned child.

The test geo database (geodb/test-city.csv) places 127.1/16 in Seoul (KR), 127.2/16 in Frankfurt
(europe) and 127.3/16 in Virginia (US), so the steered name `geo` answers each with its own pool.
`child` is delegated with the DS that `gslb dnssec ds` printed for the child's key (filled in by
the test), `plain` is delegated without one (an unsigned child).
"""

from __future__ import annotations

PARENT = "signed.test"
CHILD = "child.signed.test"
PLAIN = "plain.signed.test"
REGIONS = {"127.1.0.0/24": "192.0.2.1", "127.2.0.0/24": "198.51.100.1", "127.3.0.0/24": "203.0.113.1"}


def parent_zone(child_ds: list[str], ttl: int = 60) -> str:
    """signed.test; `child_ds`: the DS data of the signed child (KEYTAG ALGORITHM TYPE DIGEST), if any."""
    ds = (", DS: [" + ", ".join(f'"{line}"' for line in child_ds) + "]") if child_ds else ""
    return f"""
zone: {PARENT}.
dnssec: true
ttl: {ttl}
soa: {{minimum: 5}}
ns: [ns1.{PARENT}.]
records:
  "@": {{MX: "10 mail.{PARENT}.", TXT: "v=spf1 -all"}}
  ns1: {{A: 127.0.0.1}}
  www: {{A: 192.0.2.10}}
  mail: {{A: 192.0.2.25}}
  tamper: {{A: 192.0.2.77}}
  geo: {{service: geo}}
  alias: {{CNAME: geo}}
  "*.wild": {{A: 192.0.2.99}}
  deep.ent: {{TXT: "below an empty non-terminal"}}
  child: {{NS: ns1.{CHILD}.{ds}}}
  ns1.child: {{A: 127.0.0.1}}
  plain: {{NS: ns1.{PLAIN}.}}
  ns1.plain: {{A: 127.0.0.1}}

datacenters:
  seoul:     {{location: [37.57, 126.98]}}
  frankfurt: {{location: [50.11, 8.68]}}
  virginia:  {{location: [38.95, -77.45]}}

pools:
  seoul:     {{datacenter: seoul,     members: [192.0.2.1]}}
  frankfurt: {{datacenter: frankfurt, members: [198.51.100.1]}}
  virginia:  {{datacenter: virginia,  members: [203.0.113.1]}}

services:
  geo:
    ttl: 30
    method: geo
    map:
      KR: [seoul]
      europe: [frankfurt]
      default: [virginia]
"""


def child_zone(ttl: int = 60) -> str:
    return f"""
zone: {CHILD}.
dnssec: true
ttl: {ttl}
soa: {{minimum: 1}}
ns: [ns1.{CHILD}.]
records:
  ns1: {{A: 127.0.0.1}}
  www: {{A: 192.0.2.50}}
"""


def plain_zone() -> str:
    return f"""
zone: {PLAIN}.
ttl: 60
ns: [ns1.{PLAIN}.]
records:
  ns1: {{A: 127.0.0.1}}
  www: {{A: 192.0.2.60}}
"""
