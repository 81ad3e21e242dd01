"""The server config (`gslb.yaml`): `model` holds every setting with its one default, `load`
reads and validates a file into it."""
