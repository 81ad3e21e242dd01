"""A redis-server the tests own, on a free loopback port with no persistence.

Used by the scale-out tests (health shared by several servers) and the dynamic update tests
(records shared by several servers); the `redis_server` fixture in conftest.py starts one.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.processes import stop_process


@dataclass
class RedisServer:
    """A redis-server the test owns: started, stopped, paused and started again on one port."""

    workdir: Path
    port: int
    extra: list[str] = field(default_factory=list)
    scheme: str = "redis"
    proc: subprocess.Popen | None = None
    client_options: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        port_flag = ["--port", "0", "--tls-port", str(self.port)] if self.scheme == "rediss" else [
            "--port", str(self.port)]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [binary, *port_flag, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), *self.extra],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.AuthenticationError:
                return  # up, and asking for a password
            except redis.exceptions.RedisError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{(self.workdir / 'redis.log').read_text()}")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=2, **self.client_options)

    def stop(self) -> None:
        """Stop it; with no persistence it comes back empty."""
        if self.proc is not None:
            stop_process(self.proc)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
