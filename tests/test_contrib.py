"""The example alert rules and Grafana dashboard in contrib/ check out, and use what the server exports.

Both are read by other programs, so each test asks what those programs would: promtool checks
the rules, runs their unit tests (tests/prometheus/alerts_test.yml) and parses every dashboard
query as PromQL; and every metric either file names must be one a real server's /metrics offers.
promtool is Debian's `prometheus` package, which `make tools` (and so `make test`) installs; the
promtool tests skip only where the binary is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import start_server
from tests.testdata import EXAMPLE_ZONES

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "contrib" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "tests" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "contrib" / "grafana" / "gslb.json"
METRIC = re.compile(r"\bgslb_[a-z0-9_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
GRID_COLUMNS = 24

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus; `make tools` installs it)")


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every metric name a real server's /metrics offers (a histogram's _bucket, _sum and _count too)."""
    server = start_server(tmp_path_factory.mktemp("contrib"), EXAMPLE_ZONES)
    try:
        with urllib.request.urlopen(f"http://{server.http}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.stop()
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(name)
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def family(name: str) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query on the dashboard, the instance variable included."""
    board = dashboard()
    found = [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]
    found += [(v["name"], v["query"]["query"]) for v in board["templating"]["list"] if v["type"] == "query"]
    return found


def as_promql(expr: str) -> str:
    """A dashboard query with Grafana's variables filled in as Grafana would."""
    expr = expr.replace("$__rate_interval", "5m").replace('"$instance"', '".*"')
    return re.sub(r"label_values\((\w+), *(\w+)\)", r"count by (\2) (\1)", expr)


# -- the alert rules ----------------------------------------------------------------------------


@needs_promtool
def test_promtool_checks_the_alert_rules() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


@needs_promtool
def test_every_alert_fires_in_the_promtool_unit_tests() -> None:
    result = promtool("test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert fired == {rule["alert"] for rule in alert_rules()}


def test_alert_rules_use_only_exported_metrics(exported: set[str]) -> None:
    used = {name for rule in alert_rules() for name in METRIC.findall(rule["expr"])}
    assert used and used - exported == set()


def test_every_alert_says_what_and_how_bad() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


# -- the dashboard ----------------------------------------------------------------------------------


def test_dashboard_uses_only_exported_metrics_and_shows_every_family(exported: set[str]) -> None:
    used = {name for _, expr in queries() for name in METRIC.findall(expr)}
    assert used - exported == set()
    assert {family(name) for name in exported} - {family(name) for name in used} == set()


@needs_promtool
def test_dashboard_queries_are_promql(tmp_path: Path) -> None:
    """Each query, variables filled in, as a recording rule: promtool parses it or says where not."""
    rules = [{"record": f"dashboard:query_{i}", "expr": as_promql(expr)} for i, (_, expr) in enumerate(queries())]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_layout_is_sound() -> None:
    board = dashboard()
    panels = board["panels"]
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    assert len({p["id"] for p in panels}) == len(panels)
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        if panel["type"] == "row":
            continue
        assert panel["description"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(set(refs)) == len(refs), panel["title"]
        assert all('instance=~"$instance"' in t["expr"] for t in panel["targets"]), panel["title"]
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "instance"]


def test_the_check_finds_a_metric_that_is_not_exported(exported: set[str]) -> None:
    """Guard against checks that pass because they find nothing."""
    assert METRIC.findall('sum(rate(gslb_made_up_total{instance=~"$instance"}[5m]))') == ["gslb_made_up_total"]
    assert "gslb_made_up_total" not in exported
    assert "gslb_dns_query_duration_seconds_bucket" in exported
    assert as_promql('rate(x{instance=~"$instance"}[$__rate_interval])') == 'rate(x{instance=~".*"}[5m])'
