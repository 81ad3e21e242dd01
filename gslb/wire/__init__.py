"""The DNS wire format: names, numbers, the query parser, record data and the reply writer.

Nothing here knows of zones, steering or sockets; everything above builds on it."""
