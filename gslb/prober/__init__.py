"""`gslb prober`: a program of its own that fetches targets from servers, probes them and
reports verdicts back. It shares only the check contract (`gslb.checks`) with the server."""
