"""The health-check contract shared by zone files, the server and the prober: what a check is
(`spec`) and what a prober is asked to probe (`target`)."""
