"""Headless Chromium for the status page tests: run it, dump the DOM it rendered, take screenshots.

Chromium is Debian's (`make test` installs it when missing). Without it these helpers fail the
test with a message saying how to get it: they do not skip. Every run has a time limit, uses a
new profile directory and talks to 127.0.0.1 only. The DOM comes back as a small tree of
`Element`s, selected by tag, class and data-* attributes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.harness import RunningServer

CHROMIUM_TIMEOUT = 60.0


def chromium_binary() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if found is None:
        pytest.fail("Chromium is needed to test the status page and is not installed: "
                    "run `make tools` (or `apt-get install -y chromium`)", pytrace=False)
    return found


def chromium_command(profile: Path, *extra: str) -> list[str]:
    return [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--no-default-browser-check", "--no-proxy-server",
            "--hide-scrollbars", f"--user-data-dir={profile}", *extra]


def stop_group(proc: subprocess.Popen) -> None:
    """Stop the Chromium we started and its helper processes (its own process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # helpers left behind, if any
    proc.wait()


def run_chromium(*args: str, timeout: float = CHROMIUM_TIMEOUT) -> str:
    with tempfile.TemporaryDirectory(prefix="gslb-chromium-") as profile:
        proc = subprocess.Popen(chromium_command(Path(profile), *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            raise AssertionError(f"chromium {' '.join(args)} did not finish in {timeout} s") from None
        finally:
            stop_group(proc)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {err[-2000:]}"
    return out


def dump_dom(url: str, budget_ms: int = 5000) -> Element:
    return parse_html(run_chromium("--virtual-time-budget=" + str(budget_ms), "--dump-dom", url))


def status_page(server: RunningServer) -> Element:
    """The server's status page as Chromium rendered it."""
    return dump_dom(f"http://{server.http}/")


def screenshot(url: str, out: Path, size: str = "1280,900", budget_ms: int = 5000) -> None:
    run_chromium(f"--virtual-time-budget={budget_ms}", f"--screenshot={out.resolve()}", f"--window-size={size}", url)
    assert out.stat().st_size > 10_000


# -- a small DOM from --dump-dom ---------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def find_all(self, test: Callable[[Element], bool]) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                if test(child):
                    yield child
                yield from child.find_all(test)

    def select(self, tag: str | None = None, cls: str | None = None, **data: str) -> list[Element]:
        """Elements by tag, by one class and by data-* attributes (data_name="x" is data-name)."""
        def test(e: Element) -> bool:
            return ((tag is None or e.tag == tag)
                    and (cls is None or cls in e.attrs.get("class", "").split())
                    and all(e.attrs.get("data-" + k.removeprefix("data_").replace("_", "-")) == v
                            for k, v in data.items()))
        return list(self.find_all(test))

    def by_id(self, value: str) -> Element:
        [found] = self.find_all(lambda e: e.attrs.get("id") == value)
        return found

    def one(self, tag: str | None = None, cls: str | None = None, **data: str) -> Element:
        found = self.select(tag, cls, **data)
        assert len(found) == 1, f"expected one {tag} .{cls} {data}, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root
