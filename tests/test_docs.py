"""The documentation stays true: links resolve, commands exist, every setting and metric is described."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from gslb.api.app import build_app
from gslb.cli import build_parser
from gslb.config.load import ConfigError, load_config
from tests.harness import start_server
from tests.testdata import EXAMPLE_ZONES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
PROBE_KEY = "zz_not_a_setting"


def prose_lines(page: Path) -> list[tuple[int, str]]:
    """The page's lines outside fenced code blocks, with inline code spans blanked out."""
    lines, in_fence = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append((number, re.sub(r"`[^`]*`", "``", line)))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    in_fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            base = slug(match.group(1))
            seen = counts.get(base, 0)
            counts[base] = seen + 1
            found.add(base if seen == 0 else f"{base}-{seen}")
    return found


def relative_links(page: Path) -> list[tuple[int, str]]:
    return [
        (number, target)
        for number, line in prose_lines(page)
        for target in LINK.findall(line)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: ...
    ]


def broken_links(page: Path) -> list[str]:
    broken = []
    for number, target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{page.name}:{number}: {target}: no such file")
        elif anchor and (destination.suffix != ".md" or anchor not in anchors(destination)):
            broken.append(f"{page.name}:{number}: {target}: no heading with that anchor")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = broken_links(page)
    assert not broken, "\n".join(broken)


def test_the_link_checker_finds_what_is_broken(tmp_path: Path) -> None:
    """Guard against a checker that passes because it finds nothing."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A `code` heading (with punctuation)\n\n## Twice\n\n## Twice\n\n"
        "[ok](#a-code-heading-with-punctuation) [ok](#twice-1) [bad](#nowhere) [bad](missing.md)\n"
        "[web](https://example.com/x.md) `[not a link](nowhere.md)`\n\n```\n[in code](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "page.md:7: #nowhere: no heading with that anchor", "page.md:7: missing.md: no such file"]
    assert "edns-rfc-6891" in anchors(DOCS / "dns-behaviour.md")
    assert "gslb-explain" in anchors(DOCS / "steering.md")
    assert "the-servers-http-api-and-the-tokens" in anchors(DOCS / "probers-in-regions.md")
    assert "drain-one-member-for-an-hour" not in anchors(DOCS / "health.md")  # a comment in a code block


def test_readme_links_every_doc() -> None:
    linked = {target.partition("#")[0] for _, target in relative_links(ROOT / "README.md")}
    missing = [page.name for page in DOCS.glob("*.md") if f"docs/{page.name}" not in linked]
    assert not missing, f"README.md does not link: {missing}"


def subcommands() -> list[list[str]]:
    """Every `gslb` subcommand, nested ones (`geodb lookup`) included, from the real parser."""
    found: list[list[str]] = []

    def walk(parser, prefix: list[str]) -> None:  # type: ignore[no-untyped-def]
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, child in action.choices.items():
                    found.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(build_parser(), [])
    return found


def test_every_subcommand_has_help() -> None:
    commands = subcommands()
    assert {"serve", "check", "explain", "prober", "geodb"} <= {c[0] for c in commands}
    assert ["geodb", "lookup"] in commands
    for command in commands:
        result = subprocess.run([sys.executable, "-m", "gslb", *command, "--help"], capture_output=True, text=True,
                                timeout=30, cwd=ROOT)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.startswith(f"usage: gslb {' '.join(command)}"), (command, result.stdout)


def accepted_keys(tmp_path: Path, path: tuple[str, ...] = ()) -> list[str]:
    """Every setting gslb.yaml accepts, as dotted paths, found the way a user would find them.

    An unknown key in a section is refused with the section's list of keys; a key whose value
    is not a section is a leaf. So the walk depends on nothing but the config reader's behaviour.
    """
    document: dict = {PROBE_KEY: 1}
    for key in reversed(path):
        document = {key: document}
    config = tmp_path / "probe.yaml"
    config.write_text(yaml.safe_dump(document))
    try:
        load_config(str(config))
    except ConfigError as exc:
        for problem in exc.problems:
            if problem.field.split(".")[-1] == PROBE_KEY:
                match = re.search(r"expected one of: ([^)]*)\)", problem.message)
                assert match, problem
                keys = [k.strip() for k in match.group(1).split(",")]
                return [leaf for key in keys for leaf in accepted_keys(tmp_path, (*path, key))]
    return [".".join(path)]


def test_every_config_key_is_documented(tmp_path: Path) -> None:
    keys = accepted_keys(tmp_path)
    assert {"dns.listen", "dns.tcp.idle_timeout", "zones", "health.quorum", "log.queries.sample"} <= set(keys)
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"docs/configuration.md does not describe: {missing}"


def test_metrics_reference_matches_a_real_scrape(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES)
    try:
        with urllib.request.urlopen(f"http://{server.http}/metrics", timeout=5) as response:
            scraped = response.read().decode()
    finally:
        server.stop()
    exposed = set(re.findall(r"^# TYPE (\S+) (\S+)$", scraped, re.M))
    reference = (DOCS / "metrics.md").read_text(encoding="utf-8").split("## Reference", 1)[1]
    documented = set(re.findall(r"^\| `(gslb_\w+)` \| (\w+) \|", reference, re.M))
    assert exposed and documented == exposed


def documented_routes() -> set[tuple[str, str]]:
    """(method, path) of every `METHOD /path` in docs/api.md's route table; `[/{x}]` counts both ways."""
    table = (DOCS / "api.md").read_text(encoding="utf-8").split("## Routes", 1)[1].split("\n## ", 1)[0]
    found = set()
    for method, path in re.findall(r"`(GET|PUT|POST|DELETE) (/[^`?\s]*)", table):
        for variant in {re.sub(r"\[([^]]*)\]", r"\1", path), re.sub(r"\[[^]]*\]", "", path)}:
            found.add((method, variant))
    return found


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    app = build_app(SimpleNamespace())  # type: ignore[arg-type]  # routes only: nothing is called
    served = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.method != "HEAD" and route.resource is not None}
    assert ("PUT", "/v1/overrides/datacenters/{name}") in served
    assert served == documented_routes()


def test_every_status_field_is_documented(tmp_path: Path) -> None:
    server = start_server(tmp_path, EXAMPLE_ZONES)
    try:
        with urllib.request.urlopen(f"http://{server.http}/status", timeout=5) as response:
            status = json.load(response)
    finally:
        server.stop()
    section = (DOCS / "api.md").read_text(encoding="utf-8").split("## Status", 1)[1].split("\n## ", 1)[0]
    fields = set(status) | set(status["pools"][0]) | set(status["pools"][0]["members"][0])
    fields |= set(status["zones"][0]) | set(status["datacenters"][0]) | set(status["dns_processes"][0])
    fields |= set(status["geodb"]) | set(status["health_backend"])
    missing = sorted(name for name in fields if f"`{name}`" not in section)
    assert not missing, f"docs/api.md does not describe these /status fields: {missing}"


def test_every_option_of_every_command_is_documented() -> None:
    """What `--help` lists is in the docs too (README and docs/), by its exact spelling."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    missing = []
    for command in subcommands():
        parser = build_parser()
        for name in command:
            sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
            parser = sub.choices[name]
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and f"{option}" not in text:
                    missing.append(f"gslb {' '.join(command)} {option}")
    assert not missing, f"options no page mentions: {missing}"


def logged_events() -> set[str]:
    """Every `"event": "name"` the package's log calls carry, read from the code, and the events
    named once for a Redis link's log lines (`LinkNames(event=...)`)."""
    events = set()
    for path in (ROOT / "gslb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "event" and isinstance(value, ast.Constant):
                        events.add(value.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_fields" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    events.add(first.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "LinkNames":
                events.update(k.value.value for k in node.keywords
                              if k.arg == "event" and isinstance(k.value, ast.Constant))
    return events


def test_every_log_event_is_documented() -> None:
    events = logged_events()
    assert {"ready", "zone_loaded", "override_set", "geodb_loaded", "query_log_file_failed"} <= events
    table = (DOCS / "configuration.md").read_text(encoding="utf-8").split("## Logging", 1)[1]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([a-z_]+)`", "".join(first_cells))) - {"event"}  # the header row
    assert events - documented == set(), "events missing from docs/configuration.md#logging"
    assert documented - events == set(), "events documented that the code never logs"
