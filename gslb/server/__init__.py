"""`gslb serve`: the process that puts zones, health, the DNS listeners and the HTTP API together."""
