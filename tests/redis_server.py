"""A redis-server the tests own, on a free loopback port with no persistence.

Used by the scale-out tests (health shared by several servers) and the dynamic update tests
(records shared by several servers); the `redis_server` fixture in conftest.py starts one.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.processes import need, stop_process, wait_until_ready


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
        binary = need("redis-server", "redis-server")
        self.workdir.mkdir(parents=True, exist_ok=True)
        port_flag = ["--port", "0", "--tls-port", str(self.port)] if self.scheme == "rediss" else [
            "--port", str(self.port)]
        log = self.workdir / "redis.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, *port_flag, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir), *self.extra],
                stdout=out, stderr=subprocess.STDOUT,
            )
        wait_until_ready(self.proc, self.answers, "redis-server", log, timeout=10)

    def answers(self) -> bool:
        """It takes connections: a PING is answered, or refused for want of a password."""
        try:
            return bool(self.client().ping())
        except redis.exceptions.AuthenticationError:
            return True  # up, and asking for a password
        except redis.exceptions.RedisError:
            return False

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
