"""The real programs tests drive (gslb, probers, redis-server, unbound, pebble): found, and stopped."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def need(command: str, package: str) -> str:
    """The path of a command the test drives; a clear failure (never a skip) when it is missing."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed: `make test` installs it (apt-get install {package})")
    return path


def wait_until_ready(proc: subprocess.Popen, ready: Callable[[], T | None], what: str, log: Path, timeout: float,
                     step: float = 0.05) -> T:
    """What ready() returned once it was true. When the process exits or `timeout` passes first, it
    is stopped and the start fails with its log: no test leaves a half-started program behind."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(step)
    stop_process(proc)
    text = log.read_text(errors="replace") if log.exists() else ""
    raise RuntimeError(f"{what} did not start:\n{text}")


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM (after SIGCONT, in case a test left it paused), then SIGKILL if it has not exited
    within `grace` seconds; nothing when it has already exited."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
