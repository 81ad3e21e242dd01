"""The prober engine against real fake-gslb servers and real backends on 127.0.0.1; its config and command."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sys
import textwrap
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from gslb.checks.spec import CheckSpec
from gslb.checks.target import Target, TargetError
from gslb.common.problems import ProblemsError
from gslb.prober.command import register
from gslb.prober.config import ProberConfig, ProberConfigError, load_prober_config
from gslb.prober.engine import Prober
from gslb.prober.server_link import FunctionSink, FunctionSource, HttpServerClient, ReportSink, ServerLink, TargetSource

T = TypeVar("T")
TOKEN = "s3cret-token"
# Timing knobs shrunk for tests; production values are in the Prober's defaults.
FAST = {"resend_interval": 0.5, "coalesce": 0.05, "backoff_initial": 0.1, "backoff_max": 0.5, "call_timeout": 2.0}


def run(coro: Awaitable[T], limit: float = 15.0) -> T:
    """Run one async test body with a hard upper bound, so a hang is a failure, not a stuck suite."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await coro

    return asyncio.run(bounded())


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 6.0) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` (generous for a busy box)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeGslb:
    """A real aiohttp server speaking the prober half of the gslb API, with bearer-token checks.

    It validates every report against the contract and counts malformed ones, so the tests also
    show that what the prober sends is what docs/api.md asks for.
    """

    def __init__(self, targets: list[dict[str, Any]] | None = None) -> None:
        self.targets: list[dict[str, Any]] = list(targets or [])
        self.reports: list[dict[str, Any]] = []
        self.fetches = 0
        self.unauthorized = 0
        self.malformed: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _authorized(self, request: web.Request) -> bool:
        if request.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self.unauthorized += 1
        return False

    async def _targets(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        self.fetches += 1
        return web.json_response({"targets": self.targets})

    async def _reports(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        problem = report_problem(body)
        if problem is not None:
            self.malformed.append(problem)
            return web.json_response({"error": problem}, status=400)
        self.reports.append(body)
        return web.json_response({"accepted": len(body["results"])})

    async def start(self) -> None:
        """Start, on a new port the first time and on the same port after a stop."""
        app = web.Application()
        app.router.add_get("/v1/targets", self._targets)
        app.router.add_post("/v1/reports", self._reports)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def results(self, target_id: str) -> list[dict[str, Any]]:
        return [r for report in self.reports for r in report["results"] if r["id"] == target_id]

    def observations(self, target_id: str) -> list[dict[str, Any]]:
        """Distinct observations in arrival order (periodic resends repeat one with the same time)."""
        seen: set[float] = set()
        out = []
        for result in self.results(target_id):
            if result["time"] not in seen:
                seen.add(result["time"])
                out.append(result)
        return out


def report_problem(body: Any) -> str | None:
    """What is wrong with a /v1/reports body per docs/api.md, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("prober"), str):
        return "prober missing"
    if set(body) - {"prober", "datacenter", "location", "results"}:
        return f"unknown keys {set(body)}"
    if "datacenter" in body and not isinstance(body["datacenter"], str):
        return "bad datacenter"
    if "location" in body and not (isinstance(body["location"], list) and len(body["location"]) == 2):
        return "bad location"
    if not isinstance(body.get("results"), list):
        return "results missing"
    types = {"rtt_ms": (int, float), "status": int, "load": (int, float), "error": str, "time": (int, float)}
    for result in body["results"]:
        if not isinstance(result.get("id"), str) or not isinstance(result.get("up"), bool):
            return f"bad result {result}"
        for key, value in result.items():
            if key not in ("id", "up") and (key not in types or not isinstance(value, types[key])):
                return f"bad field {key}={value!r}"
    return None


class Backend:
    """An HTTP backend whose status the test flips; counts hits per path."""

    def __init__(self) -> None:
        self.status = 200
        self.hits: Counter[str] = Counter()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        return web.Response(status=self.status, text="ok", headers={"X-Load": "3"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def http_target(target_id: str, port: int, path: str, **check: Any) -> dict[str, Any]:
    spec = {"type": "http", "port": port, "path": path, "interval": 0.15, "timeout": 1.0, **check}
    return {"id": target_id, "address": "127.0.0.1", "check": spec}


async def stop_prober(prober: Prober, task: asyncio.Task[None]) -> None:
    prober.stop()
    async with asyncio.timeout(5):
        await task


def http_prober(servers: list[FakeGslb], token: str = TOKEN, **options: Any) -> Prober:
    config = ProberConfig(
        name="probe-test-1",
        servers=tuple(s.url for s in servers),
        token=token,
        datacenter="seoul",
        refresh=0.3,
        concurrency=10,
    )
    return Prober.from_config(config, **{**FAST, **options})


# -- the engine --------------------------------------------------------------------------------------


def test_one_server_down_does_not_stop_reports_to_the_other_and_it_resumes() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        target = http_target("web", backend.port, "/a", load="header")
        a, b = FakeGslb([target]), FakeGslb([target])
        await a.start()
        await b.start()
        prober = http_prober([a, b])
        task = asyncio.create_task(prober.run())
        try:
            await wait_until(lambda: a.results("web") and b.results("web"), "both servers hear about 'web'")
            first = a.reports[0]
            assert first["prober"] == "probe-test-1" and first["datacenter"] == "seoul"
            result = a.results("web")[0]
            assert result["up"] is True and result["status"] == 200 and result["load"] == 3.0
            assert result["rtt_ms"] >= 0 and "error" not in result
            assert backend.hits["/a"] >= 1

            await b.stop()
            stats_b = prober.stats.links[b.url]
            await wait_until(lambda: stats_b.reachable is False, "b marked unreachable")
            count_a = len(a.reports)
            await wait_until(lambda: len(a.reports) >= count_a + 3, "a keeps getting reports while b is down")
            assert stats_b.report_failures + stats_b.fetch_failures >= 1

            b.reports.clear()
            await b.start()  # same port
            await wait_until(lambda: b.results("web"), "b gets reports again after it returns")
            await wait_until(lambda: stats_b.reachable is True, "b marked reachable again")
            assert b.results("web")[-1]["up"] is True
            assert not a.malformed and not b.malformed
            assert a.unauthorized == 0 and b.unauthorized == 0
            assert len(prober.probed_targets()) == 1  # one target, however many servers list it
        finally:
            await stop_prober(prober, task)
            await a.stop()
            await b.stop()
            await backend.stop()

    run(body())


def test_a_hanging_server_delays_nobody_else() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        writers: list[asyncio.StreamWriter] = []

        async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)  # accept, read nothing back, answer nothing
            await reader.read()

        hanging = await asyncio.start_server(hang, "127.0.0.1", 0)
        hanging_url = f"http://127.0.0.1:{hanging.sockets[0].getsockname()[1]}"
        good = FakeGslb([http_target("a", backend.port, "/a")])
        await good.start()
        config = ProberConfig(name="p", servers=(good.url, hanging_url), token=TOKEN, refresh=0.3)
        prober = Prober.from_config(config, **{**FAST, "call_timeout": 3.0})
        task = asyncio.create_task(prober.run())
        try:
            await wait_until(lambda: good.results("a"), "reports to the good server")
            good.targets.append(http_target("b", backend.port, "/b"))
            await wait_until(lambda: good.results("b"), "a new target on the good server, while the other hangs")
            assert prober.stats.links[hanging_url].fetches == 0
        finally:
            await stop_prober(prober, task)
            for writer in writers:
                writer.close()
            hanging.close()
            await hanging.wait_closed()
            await good.stop()
            await backend.stop()

    run(body())


def test_rise_and_fall_are_applied_to_what_is_reported() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        backend.status = 500
        server = FakeGslb([http_target("web", backend.port, "/", rise=2, fall=3)])
        await server.start()
        prober = http_prober([server], resend_interval=5.0)
        task = asyncio.create_task(prober.run())

        def since_last_verdict_change(observations: list[dict[str, Any]], verdict: bool) -> list[dict[str, Any]]:
            """Observations from the first one reporting ``verdict`` after the last one that did not."""
            flips = [i for i, o in enumerate(observations) if o["up"] is verdict]
            return observations[: flips[0] + 1] if flips else []

        try:
            # The first observation sets the state directly: one failure reports down.
            await wait_until(lambda: server.observations("web"), "a first observation")
            first = server.observations("web")[0]
            assert first["up"] is False and first["error"] == "status 500 not in [200]"

            # Down -> up takes rise=2 consecutive successes: exactly one success is reported as still down.
            seen = len(server.observations("web"))
            backend.status = 200
            await wait_until(lambda: any(o["up"] for o in server.observations("web")), "up after rise")
            recovery = since_last_verdict_change(server.observations("web")[seen:], True)
            successes_while_down = [o for o in recovery if o["up"] is False and "error" not in o]
            assert len(successes_while_down) == 1, recovery
            assert recovery[-1]["up"] is True and "error" not in recovery[-1]

            # Up -> down takes fall=3 consecutive failures: two failures are reported as still up.
            seen = len(server.observations("web"))
            backend.status = 500
            await wait_until(lambda: any(o["up"] is False for o in server.observations("web")[seen:]), "down")
            outage = since_last_verdict_change(server.observations("web")[seen:], False)
            failures_while_up = [o for o in outage if o["up"] is True and "error" in o]
            assert len(failures_while_up) == 2, outage
            assert outage[-1]["error"] == "status 500 not in [200]"
            assert prober.stats.state_changes == 3
            assert not server.malformed
        finally:
            await stop_prober(prober, task)
            await server.stop()
            await backend.stop()

    run(body())


def test_target_removed_from_the_list_stops_being_probed() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        server = FakeGslb([http_target("a", backend.port, "/a"), http_target("b", backend.port, "/b")])
        await server.start()
        prober = http_prober([server])
        task = asyncio.create_task(prober.run())
        try:
            await wait_until(lambda: backend.hits["/a"] >= 2 and backend.hits["/b"] >= 2, "both probed")
            server.targets = [t for t in server.targets if t["id"] != "b"]
            await wait_until(lambda: len(prober.probed_targets()) == 1, "b dropped after a refresh")
            await asyncio.sleep(0.3)  # let a probe that was already on the wire land
            hits_b, hits_a = backend.hits["/b"], backend.hits["/a"]
            await asyncio.sleep(1.0)  # ~6 intervals
            assert backend.hits["/b"] == hits_b
            assert backend.hits["/a"] > hits_a
            assert prober.stats.jobs_stopped == 1
            last_reports = server.reports[-3:]
            assert all(r["id"] == "a" for report in last_reports for r in report["results"])
        finally:
            await stop_prober(prober, task)
            await server.stop()
            await backend.stop()

    run(body())


def test_same_check_under_different_ids_is_probed_once_and_each_server_gets_its_ids() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        a = FakeGslb([http_target("a-1", backend.port, "/same")])
        b = FakeGslb([http_target("b-9", backend.port, "/same")])
        await a.start()
        await b.start()
        prober = http_prober([a, b])
        task = asyncio.create_task(prober.run())
        try:
            await wait_until(lambda: a.results("a-1") and b.results("b-9"), "both servers get their own id")
            await asyncio.sleep(0.5)
            assert prober.stats.jobs_started == 1 and len(prober.probed_targets()) == 1
            assert a.results("b-9") == [] and b.results("a-1") == []
        finally:
            await stop_prober(prober, task)
            await a.stop()
            await b.stop()
            await backend.stop()

    run(body())


def test_wrong_token_is_a_logged_failure_not_a_crash() -> None:
    async def body() -> None:
        server = FakeGslb([http_target("web", closed_port(), "/")])
        await server.start()
        prober = http_prober([server], token="wrong")
        task = asyncio.create_task(prober.run())
        try:
            stats = prober.stats.links[server.url]
            await wait_until(lambda: stats.fetch_failures >= 2, "repeated fetch failures")
            assert stats.reachable is False and "401" in (stats.last_error or "")
            assert prober.probed_targets() == [] and server.unauthorized >= 2 and not task.done()
        finally:
            await stop_prober(prober, task)
            await server.stop()

    run(body())


def test_malformed_targets_are_skipped_not_fatal() -> None:
    async def body() -> None:
        backend = Backend()
        await backend.start()
        good = http_target("good", backend.port, "/good")
        bad_check = {"id": "bad1", "address": "127.0.0.1", "check": {"type": "icmp"}}
        hostname = {"id": "bad2", "address": "localhost", "check": {"type": "tcp", "port": 1}}
        server = FakeGslb([good, bad_check, hostname, {"id": "bad3"}])
        await server.start()
        client = HttpServerClient(server.url, TOKEN)
        try:
            targets = await client.fetch()
            assert [t.id for t in targets] == ["good"] and client.rejected_targets == 3
        finally:
            await client.aclose()
            await server.stop()
            await backend.stop()

    run(body())


def test_embedded_use_with_in_process_source_and_sink() -> None:
    async def body() -> None:
        listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        open_port = listener.sockets[0].getsockname()[1]
        targets = [
            Target("open", "127.0.0.1", CheckSpec(type="tcp", port=open_port, interval=0.15, timeout=1.0)),
            Target("shut", "127.0.0.1", CheckSpec(type="tcp", port=closed_port(), interval=0.15, timeout=1.0)),
        ]
        reports: list[dict[str, Any]] = []
        source = FunctionSource(lambda: list(targets))  # a sync callable is fine
        sink = FunctionSink(reports.append)
        assert isinstance(source, TargetSource) and isinstance(sink, ReportSink)
        prober = Prober("local", [ServerLink("local", source, sink)], location=(37.57, 126.98), refresh=60, **FAST)
        task = asyncio.create_task(prober.run())

        def latest(target_id: str) -> dict[str, Any] | None:
            found = [r for rep in reports for r in rep["results"] if r["id"] == target_id]
            return found[-1] if found else None

        try:
            await wait_until(lambda: latest("open") and latest("shut"), "verdicts for both")
            assert latest("open")["up"] is True  # type: ignore[index]
            assert latest("shut") == {**latest("shut"), "up": False, "error": "connection refused"}  # type: ignore[arg-type]
            assert reports[0]["location"] == [37.57, 126.98] and "datacenter" not in reports[0]
            assert prober.verdict("127.0.0.1", targets[0].check) is True

            # A reload on the server side: request_refresh picks it up without waiting for `refresh`.
            targets.append(Target("none", "127.0.0.1", CheckSpec(type="none", interval=0.15)))
            prober.request_refresh()
            await wait_until(lambda: latest("none") is not None, "new target picked up at once", timeout=3.0)
            assert latest("none")["up"] is True  # type: ignore[index]
        finally:
            await stop_prober(prober, task)
            listener.close()
            await listener.wait_closed()

    run(body())


class LowestRandom(random.Random):
    """Always the low end: the first probe comes at once, and jitter only ever shortens a wait."""

    def uniform(self, a: float, b: float) -> float:
        return a


def test_periodic_full_resend_reaches_a_server_that_forgot_everything() -> None:
    async def body() -> None:
        reports: list[dict[str, Any]] = []
        check = CheckSpec(type="none", interval=600)  # probed once in the test's lifetime
        source = FunctionSource(lambda: [Target("t", "127.0.0.1", check)])
        links = [ServerLink("s", source, FunctionSink(reports.append))]
        prober = Prober("p", links, refresh=60, rng=LowestRandom(), **FAST)
        task = asyncio.create_task(prober.run())
        try:
            await wait_until(lambda: len(reports) >= 3, "the verdict is re-sent every resend_interval")
            assert {r["results"][0]["time"] for r in reports} == {reports[0]["results"][0]["time"]}
            assert prober.stats.probes == 1 and prober.stats.links["s"].full_resends >= 2
        finally:
            await stop_prober(prober, task)

    run(body())


def test_target_validation() -> None:
    spec = CheckSpec(type="tcp", port=80)
    assert Target("x", "::0001", spec).address == "::1"
    assert Target.from_json(Target("x", "127.0.0.1", spec).to_json()) == Target("x", "127.0.0.1", spec)
    with pytest.raises(TargetError, match=r"address: 'example\.com' is not an IP address"):
        Target("x", "example.com", spec)
    with pytest.raises(TargetError, match=r"check\.port: required"):
        Target.from_json({"id": "x", "address": "127.0.0.1", "check": {"type": "tcp"}})


# -- config ------------------------------------------------------------------------------------------


def write_config(directory: Path, text: str) -> Path:
    path = directory / "prober.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_config_loads_every_field_and_reads_a_relative_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file\n")
    path = write_config(
        tmp_path,
        """
        name: probe-seoul-1
        datacenter: seoul
        location: [37.57, 126.98]
        servers: ["http://127.0.0.1:8053/", "https://127.0.0.2:8053"]
        token_file: token
        refresh: 2m
        concurrency: 50
        """,
    )
    config = load_prober_config(path, env={})
    assert config == ProberConfig(
        name="probe-seoul-1", servers=("http://127.0.0.1:8053", "https://127.0.0.2:8053"), token="from-file",
        datacenter="seoul", location=(37.57, 126.98), refresh=120.0, concurrency=50, token_file="token",
    )  # fmt: skip
    assert "from-file" not in repr(config)
    path.write_text("name: p\nservers: ['http://127.0.0.1:1']\n")
    defaults = load_prober_config(path, env={"GSLB_TOKEN": "t"})
    assert (defaults.refresh, defaults.concurrency, defaults.datacenter, defaults.location) == (30.0, 100, None, None)
    assert (defaults.token, defaults.token_file) == ("t", None)


def test_datacenter_no_stays_the_text_no(tmp_path: Path) -> None:
    """YAML 1.1 would read NO (Norway) as false; prober.yaml is read with the narrow typing of every other file."""
    path = write_config(tmp_path, "name: p\ndatacenter: NO\nservers: ['http://127.0.0.1:1']\n")
    assert load_prober_config(path, env={"GSLB_TOKEN": "t"}).datacenter == "NO"


def test_gslb_token_env_overrides_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'name: p\nservers: ["http://127.0.0.1:1"]\ntoken_file: /nonexistent/token\n')
    assert load_prober_config(path, env={"GSLB_TOKEN": "from-env"}).token == "from-env"
    with pytest.raises(ProberConfigError, match=r"prober.yaml:3: token_file: /nonexistent/token: No such file"):
        load_prober_config(path, env={})


def test_a_token_file_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"\xff\xfe token")
    path = write_config(tmp_path, "name: p\nservers: ['http://127.0.0.1:1']\ntoken_file: token\n")
    with pytest.raises(ProberConfigError, match=r"prober.yaml:3: token_file: .*token: not UTF-8 text"):
        load_prober_config(path, env={})


def test_an_empty_token_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("  \n")
    path = write_config(tmp_path, "name: p\nservers: ['http://127.0.0.1:1']\ntoken_file: token\n")
    with pytest.raises(ProberConfigError, match=r"prober.yaml:3: token_file: .*token is empty"):
        load_prober_config(path, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "1: name: required"),
        ("- a\n", "1: the prober config must be a mapping"),
        ("name: [\n", "1: YAML syntax: the file ends inside the '[' or '{' opened on this line"),
        ("servers: ['http://127.0.0.1:1']\n", "1: name: required"),
        ("name:\nservers: ['http://127.0.0.1:1']\n", "1: name: required"),
        ("name: 'bad name'\nservers: ['http://127.0.0.1:1']\n", "1: name: 'bad name' is not a prober name"),
        ("name: p\n", "1: servers: required: a non-empty list of base URLs"),
        ("name: p\nservers: []\n", "2: servers: '[]' is not a non-empty list of base URLs"),
        ("name: p\nservers: nope\n", "2: servers: 'nope' is not a non-empty list of base URLs"),
        ("name: p\nservers: ['ftp://127.0.0.1']\n",
         "2: servers[0]: 'ftp://127.0.0.1' is not an http(s) URL with a host"),
        ("name: p\nservers:\n  - http://127.0.0.1:1\n  - http://127.0.0.1:1/\n",
         "4: servers[1]: 'http://127.0.0.1:1/' is listed twice"),
        ("name: p\nservers: ['http://u:pw@127.0.0.1:1']\n",
         "2: servers[0]: 'http://u:pw@127.0.0.1:1' carries credentials"),
        ("name: p\nservers: ['http://127.0.0.1:1/?x=1']\n",
         "2: servers[0]: 'http://127.0.0.1:1/?x=1' must not have a query or fragment"),
        ("name: p\nservers: [42]\n", "2: servers[0]: '42' is not a URL"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nrefresh: soon\n", "3: refresh: 'soon' is not a duration"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nrefresh: 0\n", "3: refresh: '0' must be longer than 0"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nconcurrency: 0\n",
         "3: concurrency: '0' is not a whole number from 1 to 10000"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nconcurrency: yes\n",
         "3: concurrency: 'yes' is not a whole number"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nlocation: [91, 0]\n", "3: location: latitude 91 is out of range"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nlocation: [1]\n",
         "3: location: '[1]' is not [latitude, longitude]"),
        ("name: p\nservers: ['http://127.0.0.1:1']\ndatacenter: ''\n", "3: datacenter: '' is not a datacenter name"),
        ("name: p\nservers: ['http://127.0.0.1:1']\ndatacenter: 'two words'\n",
         "3: datacenter: 'two words' is not a datacenter name"),
        ("name: p\nservers: ['http://127.0.0.1:1']\ntoken_file: ''\n", "3: token_file: '' is not a path"),
        ("name: p\nservers: ['http://127.0.0.1:1']\nregion: x\n", "3: region: unknown key (expected one of: name,"),
    ],
)  # fmt: skip
def test_config_errors_read_file_line_field_message(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ProberConfigError) as info:
        load_prober_config(path, env={"GSLB_TOKEN": "t"})
    assert str(info.value).startswith(f"{path}:{message}"), str(info.value)


def test_every_mistake_is_reported_at_once_with_its_line(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """\
        name: 'bad name'
        datacenter: ''
        servers:
          - http://127.0.0.1:1
          - ftp://127.0.0.1
          - http://127.0.0.1:1/
        refresh: soon
        concurrency: 0
        colour: blue
        """,
    )
    with pytest.raises(ProberConfigError) as info:
        load_prober_config(path, env={})
    assert isinstance(info.value, ProblemsError)  # the same error type as every other file's reader
    found = [(p.line, p.field) for p in info.value.problems]
    # In line order; a missing key (token_file) is reported at the top of its mapping.
    assert found == [
        (1, "name"), (1, "token_file"), (2, "datacenter"), (5, "servers[1]"), (6, "servers[2]"), (7, "refresh"),
        (8, "concurrency"), (9, "colour"),
    ], str(info.value)  # fmt: skip
    assert {p.file for p in info.value.problems} == {str(path)}
    first = str(info.value).splitlines()[0]
    assert first == f"{path}:1: name: 'bad name' is not a prober name (letters, digits, '.', '_', '-'; at most 63)"


def test_config_without_any_token_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "name: p\nservers: ['http://127.0.0.1:1']\n")
    with pytest.raises(ProberConfigError, match=r"prober.yaml:1: token_file: required \(or set GSLB_TOKEN\)"):
        load_prober_config(path, env={})


def test_an_unreadable_config_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(ProberConfigError, match=r"missing.yaml: cannot read: No such file"):
        load_prober_config(tmp_path / "missing.yaml", env={"GSLB_TOKEN": "t"})


# -- the command -------------------------------------------------------------------------------------


def build_cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gslb")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub, lambda p: p.add_argument("-c", "--config"))
    return parser


def test_command_exits_2_on_a_bad_config_and_prints_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GSLB_TOKEN", raising=False)
    path = write_config(tmp_path, "name: p\nservers: nope\nrefresh: soon\n")
    args = build_cli().parse_args(["prober", "-c", str(path)])
    assert args.func(args) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:1: token_file: required (or set GSLB_TOKEN)",
        f"{path}:2: servers: 'nope' is not a non-empty list of base URLs such as http://127.0.0.1:8053",
        f"{path}:3: refresh: 'soon' is not a duration (expected e.g. 500ms, 30s, 2m, 1h)",
    ]


def test_command_exits_2_without_a_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GSLB_CONFIG", raising=False)
    args = build_cli().parse_args(["prober"])
    assert args.func(args) == 2
    assert "no config" in capsys.readouterr().err


def test_command_runs_until_sigterm(tmp_path: Path) -> None:
    async def body() -> None:
        server = FakeGslb([{"id": "t", "address": "127.0.0.1", "check": {"type": "none", "interval": 0.2}}])
        await server.start()
        (tmp_path / "token").write_text(TOKEN)
        path = write_config(
            tmp_path,
            f"name: cmd-probe\ndatacenter: seoul\nservers: ['{server.url}']\ntoken_file: token\nrefresh: 1s\n",
        )
        script = (
            "import argparse, sys\n"
            "from gslb.prober.command import register\n"
            "p = argparse.ArgumentParser(); s = p.add_subparsers(dest='command')\n"
            "register(s, lambda q: q.add_argument('-c', '--config'))\n"
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
        )
        env = {k: v for k, v in os.environ.items() if k not in ("GSLB_TOKEN", "GSLB_CONFIG")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, "prober", "-c", str(path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            await wait_until(lambda: bool(server.results("t")), "the command's prober reports", timeout=8.0)
            assert server.reports[0]["prober"] == "cmd-probe"
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(5):
                _, stderr = await proc.communicate()
            assert proc.returncode == 0, stderr.decode()
            assert b"prober cmd-probe stopped" in stderr
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await server.stop()

    run(body(), limit=20.0)


def test_a_ca_file_is_checked_when_the_config_is_read(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    for ca_file, message in (("absent.pem", "No such file or directory"), ("junk.pem", "holds no PEM certificate")):
        path = write_config(tmp_path, f"name: p\nservers: ['https://127.0.0.1:1']\ntoken_file: token\n"
                                      f"ca_file: {ca_file}\n")
        with pytest.raises(ProberConfigError, match=rf"prober.yaml:4: ca_file: .*{ca_file}.*{message}"):
            load_prober_config(path, env={})
