"""Seed queries for the fuzzers: one of each kind the example zone answers differently."""

from __future__ import annotations

import dns.edns
import dns.message


def seed_queries() -> list[dns.message.Message]:
    ecs = dns.edns.ECSOption("175.223.10.0", 24)
    return [
        dns.message.make_query("www.example.com", "A"),
        dns.message.make_query("www.example.com", "AAAA", use_edns=0, payload=4096, options=[ecs]),
        dns.message.make_query("api.example.com", "A", use_edns=0, options=[dns.edns.GenericOption(3, b"")]),
        dns.message.make_query("example.com", "ANY", use_edns=0, want_dnssec=True),
        dns.message.make_query("a.static.example.com", "CNAME", use_edns=False),
        dns.message.make_query("x.sub.example.com", "NS"),
        dns.message.make_query("nothing.example.com", "MX"),
        dns.message.make_query("docs.example.com", "A"),
        dns.message.make_query("id.server", "TXT", rdclass="CH"),
    ]
