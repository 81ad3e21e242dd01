"""A zone that exercises every steering method, for the engine and server tests.

The test geo database (geodb/test-city.csv) places 127.1/16 in Seoul (KR), 127.2/16 in
Frankfurt (DE, europe), 127.3/16 in Virginia (US-VA), 127.4/16 in California (US-CA),
127.5/16 in Tokyo, 127.6/16 in Sao Paulo, 127.7/16 in Sydney, 127.8/16 in Namibia (country NA,
africa), 127.9/16 in Paris, 127.10/17 and 127.10.128/17 in Berlin (two records), 127.11/16 in
the US with 127.11.5/24 in Seoul inside it; 127.0/16 is not in the database.
"""

ZONE = "steer.test"

BIG_POOL = ", ".join(f"198.18.0.{i}" for i in range(1, 61))

TEXT = f"""
zone: steer.test.
ttl: 300
ns: [ns1.steer.test.]
records:
  ns1: {{A: 127.0.0.53}}
  geo: {{service: geo}}
  near: {{service: near}}
  near-sticky: {{service: near-sticky}}
  split: {{service: split}}
  split-sticky: {{service: split-sticky}}
  standby: {{service: standby}}
  order: {{service: order}}
  net: {{service: net}}
  every: {{service: every}}
  nested: {{service: nested}}
  strict: {{service: strict}}
  fallback: {{service: fallback}}
  big: {{service: big}}
  capped: {{service: capped}}
  v4only: {{service: v4only}}
  cold-first: {{service: cold-first}}
  fast: {{service: fast}}
  light: {{service: light}}
  cname-to-geo: {{CNAME: geo}}

datacenters:
  seoul:     {{location: [37.57, 126.98]}}
  tokyo:     {{location: [35.68, 139.69]}}
  frankfurt: {{location: [50.11, 8.68]}}
  virginia:  {{location: [38.95, -77.45]}}

pools:
  seoul:     {{datacenter: seoul,     members: [192.0.2.1, 192.0.2.2, "2001:db8:1::1"]}}
  tokyo:     {{datacenter: tokyo,     members: [192.0.2.11]}}
  frankfurt: {{datacenter: frankfurt, members: [198.51.100.1, "2001:db8:2::1"]}}
  virginia:  {{datacenter: virginia,  members: [203.0.113.1, 203.0.113.2], min_healthy: 2}}
  canary:    {{datacenter: virginia,  members: [203.0.113.99]}}
  spare:     {{datacenter: virginia,  members: [203.0.113.200]}}
  cold:      {{datacenter: frankfurt, members: [198.51.100.250], initial: down}}
  weighted-members:
    datacenter: seoul
    members:
      - {{address: 192.0.2.101, weight: 1}}
      - {{address: 192.0.2.102, weight: 3}}
      - {{address: 192.0.2.103, weight: 0}}
  big-pool:  {{datacenter: tokyo, members: [{BIG_POOL}]}}
  a-only:    {{datacenter: tokyo, members: [192.0.2.77]}}

services:
  geo:
    ttl: 60
    method: geo
    map:
      KR: [seoul, tokyo]
      US-CA: [virginia]
      europe: [frankfurt, virginia]
      default: [virginia]
  near:
    ttl: 60
    method: nearest
    pools: [seoul, tokyo, frankfurt, virginia]
  near-sticky:
    method: nearest
    pools: [seoul, frankfurt, virginia]
    bias: {{virginia: 9000}}
    sticky: true
  split:
    method: weighted
    pools: {{virginia: 80, canary: 20}}
  split-sticky:
    method: weighted
    pools: {{seoul: 1, tokyo: 1, frankfurt: 1, virginia: 1}}
    sticky: true
  standby:
    method: weighted
    pools: {{canary: 1, spare: 0}}
  order:
    method: failover
    pools: [canary, spare]
  net:
    method: cidr
    map:
      "127.20.0.0/14": [frankfurt]
      "127.21.0.0/16": [seoul]
      "::1/128": [tokyo]
      default: [virginia]
  every:
    method: all
    pools: [seoul, frankfurt, tokyo]
  nested:
    method: geo
    map:
      KR: [split]
      default: [order]
  strict:
    method: failover
    pools: [canary]
    all_down: servfail
  fallback:
    method: failover
    pools: [canary, tokyo]
    all_down: spare
  big:
    method: failover
    pools: [big-pool]
  capped:
    method: failover
    pools: [weighted-members]
    answers: {{max: 1}}
  v4only:
    method: failover
    pools: [a-only]
  cold-first:
    method: failover
    pools: [cold, spare]
  fast:
    method: latency
    pools: [seoul, frankfurt, virginia]
  light:
    method: least-loaded
    pools: [seoul, frankfurt, virginia]
"""
