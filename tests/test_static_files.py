"""The status page's markup, stylesheet and script live in gslb/api/static/, never in Python strings.

Kept apart, each is read, linted and changed as what it is; the page is put together from them
at import (gslb/api/page.py), and the checks here keep it that way.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from gslb.api.page import COLOURS, CONTENT_SECURITY_POLICY, PAGE, static_text

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gslb"

# Each pattern matches what only that language writes, so that ordinary Python strings (usage
# texts with <placeholders>, regular expressions, format strings, the Lua for redis) pass.
MARKUP = {
    "HTML": re.compile(
        r"(?i:<!doctype\s+html)"
        r"|</[a-z][a-z0-9-]*\s*>"  # a closing tag
        r"|<(?:html|head|body|script|style|noscript|div|span|section|svg|ul|li|tr|td|br|meta|h[1-6])\b"
        r"|<[a-z][a-z0-9-]*\s+[a-z-]+\s*=\s*[\"']"  # a tag with an attribute
    ),
    # a declaration ended by `;` inside braces: a format field such as {width:>10} ends with `}`
    "CSS": re.compile(r"\{\s*(?:--)?[a-z][a-z-]*\s*:[^;{}]*;"),
    "JavaScript": re.compile(
        r"\bfunction\b[\w$\s]*\([^()]*\)\s*\{"  # a function with its body
        r"|\([^()]*\)\s*=>"  # an arrow function
        r"|\b(?:const|let|var)\s+[\w$]+\s*=[^=]"
        r"|\bdocument\.[A-Za-z]"
        r"|[\"']use strict[\"']"
    ),
}


def markup_in(text: str) -> list[str]:
    return [language for language, pattern in MARKUP.items() if pattern.search(text)]


@pytest.mark.parametrize("text", [
    '<!doctype html>\n<html lang="en">',
    "<style>",
    '<circle cx="7" cy="7" r="5.5"/>',
    "  </section>",
    ":root {\n  --bg: #f6f8fa; --fg: #1f2328;\n}",
    "main { padding: 1rem; display: grid; }",
    '"use strict";',
    "const label = (dc) => dc.name;",
    "function ago(iso) {\n  return iso;\n}",
    "setTimeout(() => abort.abort(), 5000);",
    'document.getElementById("summary")',
])
def test_the_check_finds_page_code(text: str) -> None:
    assert markup_in(text)


@pytest.mark.parametrize("text", [
    "Authorization: Bearer <token>",
    "message {data!r} is not '<seq> <json>'",
    r"^\s*(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>ms|s|m|h)?\s*$",
    "{name}: {value:>10}; {width:g}",
    "M{x:g},0V{height}",
    "local function put(key, field, value)\n  redis.call('HSET', key, field, value)\nend",
    "<Zone origin='example.'>",
    "a -> b, x >= y, {'a': 1}",
    "the same function every DNS worker process calls",
])
def test_the_check_passes_python(text: str) -> None:
    assert markup_in(text) == []


def test_no_python_file_in_the_package_holds_html_css_or_javascript() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (languages := markup_in(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {', '.join(languages)}")
    assert found == [], "move these into files (gslb/api/static/ for the status page):\n" + "\n".join(found)


def inline(tag: str) -> str:
    [text] = re.findall(rf"<{tag}>(.*?)</{tag}>", PAGE, re.DOTALL)
    return text


@pytest.mark.parametrize(("tag", "directive", "name"), [("script", "script-src", "status.js"),
                                                         ("style", "style-src", "status.css")])
def test_the_policy_allows_exactly_the_inline_script_and_style(tag: str, directive: str, name: str) -> None:
    text = inline(tag)
    assert text == static_text(name)
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert f"{directive} 'sha256-{digest}';" in CONTENT_SECURITY_POLICY


def test_nothing_is_left_unfilled_in_the_page() -> None:
    assert "$" not in PAGE.replace(inline("script"), "")


def test_stylesheet_names_the_colours_the_markers_use() -> None:
    css = static_text("status.css")
    assert dict(re.findall(r"--(up|degraded|down|none):\s*(#[0-9a-f]{6})\b", css)) == COLOURS


def test_every_static_file_is_package_data() -> None:
    """An editable install reads the files from the source tree; a wheel has only what this lists."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["gslb.api"]
    shipped = {path for pattern in patterns for path in (PACKAGE / "api").glob(pattern) if path.is_file()}
    assert shipped == {path for path in (PACKAGE / "api" / "static").rglob("*") if path.is_file()}
