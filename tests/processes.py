"""Stopping the real processes tests start (gslb, probers, redis-server, unbound, pebble)."""

from __future__ import annotations

import signal
import subprocess


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
