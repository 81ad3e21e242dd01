"""The token: required off loopback, never shown in /status or the log."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from tests.harness import start_server
from tests.testdata import EXAMPLE_ZONES

SECRET = "s3cret-token-that-must-not-leak"


def test_refuses_a_network_facing_api_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "gslb.yaml"
    config.write_text(yaml.safe_dump({"zones": str(EXAMPLE_ZONES), "dns": {"listen": ["127.0.0.1:0"]},
                                      "http": {"listen": "0.0.0.0:0"}}))
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "gslb", "serve", "-c", str(config)], capture_output=True,
                            text=True, timeout=30, env=env)
    assert result.returncode == 2
    assert "refusing to serve the HTTP API on 0.0.0.0:0 without a token" in result.stderr


def test_token_is_not_in_status_or_log(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRET)
    server = start_server(tmp_path / "srv", EXAMPLE_ZONES, {"http": {"token_file": str(token_file)}})
    try:
        with urllib.request.urlopen(f"http://{server.http}/status", timeout=5) as response:
            status = response.read().decode()
        json.loads(status)
        request = urllib.request.Request(f"http://{server.http}/v1/reports", method="POST",
                                         data=b'{"prober": "p", "results": []}',
                                         headers={"Authorization": f"Bearer {SECRET}x"})
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        server.stop()
    assert SECRET not in status
    assert SECRET not in server.log_text()
