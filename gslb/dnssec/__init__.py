"""DNSSEC: keys in BIND's file format, online signing of replies, compact denial of existence.

Between the engine and the DNS server: the engine answers as if no zone were signed, and
`secure.py` turns its `Answer` into the signed one for a query with the DO bit (docs/dnssec.md).
"""
