"""gslb: an authoritative GeoDNS / global server load balancing server."""

__version__ = "0.1.0"
