"""`gslb explain` as an operator runs it: exit status by the answer, and a clear word when the address it
asks is not a gslb server or wants a token."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.harness import RunningServer, start_server
from tests.testdata import EXAMPLE_ZONES


def explain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GSLB_CONFIG", "GSLB_TOKEN")}
    return subprocess.run([sys.executable, "-m", "gslb", "explain", *args], capture_output=True, text=True,
                          timeout=30, env=env, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The example zone on a server whose reads need a read token."""
    folder = tmp_path_factory.mktemp("guarded")
    (folder / "read.token").write_text("explain-read-token")
    server = start_server(folder / "srv", EXAMPLE_ZONES, {"http": {"read_token_file": str(folder / "read.token")}})
    yield server
    server.stop()


def test_a_name_in_no_zone_exits_1_live_and_offline(guarded: RunningServer) -> None:
    for extra in ([], ["--offline"]):
        result = explain("www.nowhere.test", "--client", "127.0.0.1", "-c", str(guarded.config_path),
                         "--server", str(guarded.http), *extra, cwd=guarded.workdir)
        assert result.returncode == 1, (extra, result.stderr)
        assert "rcode:    REFUSED" in result.stdout
        assert result.stderr == "gslb explain: www.nowhere.test. is in no zone of this server (REFUSED)\n"


def test_an_answer_exits_0_with_the_read_token_of_the_config(guarded: RunningServer) -> None:
    result = explain("legacy.example.com", "--client", "127.0.0.1", "-c", str(guarded.config_path),
                     "--server", str(guarded.http), cwd=guarded.workdir)
    assert result.returncode == 0, result.stderr
    assert "health:   live" in result.stdout
    nxdomain = explain("nope.example.com", "--client", "127.0.0.1", "-c", str(guarded.config_path),
                       "--server", str(guarded.http), cwd=guarded.workdir)
    assert nxdomain.returncode == 0 and "rcode:    NXDOMAIN" in nxdomain.stdout


def test_a_server_that_wants_a_token_we_lack_says_so(guarded: RunningServer, tmp_path: Path) -> None:
    bare = tmp_path / "gslb.yaml"
    bare.write_text(f"zones: {EXAMPLE_ZONES}\n")
    result = explain("legacy.example.com", "--client", "127.0.0.1", "-c", str(bare), "--server", str(guarded.http),
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"gslb explain: the server at http://{guarded.http} refused: a valid bearer token is "
                             "required (a read token)\n")


def test_an_http_server_that_is_not_gslb_is_named(tmp_path: Path) -> None:
    web = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        address = f"127.0.0.1:{web.server_address[1]}"
        config = tmp_path / "gslb.yaml"
        config.write_text(f"zones: {EXAMPLE_ZONES}\n")
        result = explain("legacy.example.com", "--client", "127.0.0.1", "-c", str(config), "--server", address,
                         cwd=tmp_path)
    finally:
        web.shutdown()
        web.server_close()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"gslb explain: http://{address} is not a gslb server's HTTP API (HTTP 404 for "
                             "/v1/explain, not JSON)\n")
