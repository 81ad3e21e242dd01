"""The real programs tests drive (gslb, probers, redis-server, unbound, pebble): found, and stopped."""

from __future__ import annotations

import shutil
import signal
import subprocess

import pytest


def need(command: str, package: str) -> str:
    """The path of a command the test drives; a clear failure (never a skip) when it is missing."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed: `make test` installs it (apt-get install {package})")
    return path


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
