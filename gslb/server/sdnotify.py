"""systemd's readiness protocol (sd_notify(3)) without libsystemd.

Under `Type=notify`, systemd puts the path of a datagram socket in `$NOTIFY_SOCKET` and waits
for `READY=1` before it counts the service as started; `RELOADING=1` ... `READY=1` brackets a
reload, `STOPPING=1` announces a stop and `STATUS=...` is the line `systemctl status` shows.
A name starting with `@` is an abstract socket (Linux).

Without `$NOTIFY_SOCKET` (run by hand, in tests, under another supervisor) every call is a
no-op. Sending never raises: a supervisor that went away must not take the server with it.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

ENV = "NOTIFY_SOCKET"


def _address(raw: str) -> str | bytes:
    """'@name' is the abstract socket '\\0name'; anything else is a file-system path."""
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    return raw


class Notifier:
    """Sends sd_notify messages to `address` (default: `$NOTIFY_SOCKET`); a no-op without one."""

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get(ENV) if address is None else address
        self.address = raw or None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send `KEY=value` fields in one datagram; True when it was sent, never raises."""
        if self.address is None or not fields:
            return False
        message = "\n".join(field.replace("\n", " ") for field in fields).encode("utf-8", "replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(1.0)  # systemd reads promptly; never hang the event loop for long
                sock.connect(_address(self.address))
                sock.sendall(message)
        except Exception as exc:  # whatever happens, serving goes on
            if not self._warned:
                log.warning("cannot notify the service manager at %s: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        fields = ["READY=1"]
        if status:
            fields.append(f"STATUS={status}")
        return self.send(*fields)

    def reloading(self, status: str | None = None) -> bool:
        # systemd 253+ wants the CLOCK_MONOTONIC time of the reload with RELOADING=1.
        fields = ["RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}"]
        if status:
            fields.append(f"STATUS={status}")
        return self.send(*fields)

    def stopping(self, status: str | None = None) -> bool:
        fields = ["STOPPING=1"]
        if status:
            fields.append(f"STATUS={status}")
        return self.send(*fields)

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")
