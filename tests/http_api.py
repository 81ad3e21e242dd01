"""The server's HTTP API as the tests call it: JSON requests with a bearer token, and /metrics scraped."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.harness import RunningServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def call_api(server: RunningServer, method: str, path: str, body: Any = None, token: str | None = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None,
             tls: ssl.SSLContext | None = None) -> tuple[int, Any]:
    """(status, decoded JSON or text); `body` is sent as JSON, `raw` as is, `token` as a bearer token,
    over HTTPS verified by `tls` when the server listens with TLS."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{server.scheme}://{server.http}{path}", data=data, method=method,
                                     headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5, context=tls) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        text, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def scrape_metrics(server: RunningServer) -> Samples:
    """Every sample of GET /metrics: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://{server.http}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples
