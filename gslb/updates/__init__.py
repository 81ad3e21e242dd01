"""Dynamic updates (RFC 2136 with TSIG): keys, policy, processing, storage and sharing."""
