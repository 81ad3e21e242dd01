"""The `gslb` subcommands that run on the server side: serve, check, explain and geodb. Each
module registers its parser and holds its handler; `gslb.cli` puts them together."""
