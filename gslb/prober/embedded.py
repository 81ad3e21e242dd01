"""The prober run inside a server process (`health.local_prober: true`).

The same engine as `gslb prober`, with the server as its only `ServerLink`: targets come from a
callable and reports go to one, with no HTTP in between. The server never imports this module;
the `serve` command, which assembles the process, plugs it in as a background service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from gslb.checks.target import Target
from gslb.prober.engine import Prober
from gslb.prober.server_link import FunctionSink, FunctionSource, ServerLink

log = logging.getLogger("gslb")

STOP_SECONDS = 10.0


class EmbeddedProber:
    """A `Prober` with one in-process server link, started and stopped with the server."""

    def __init__(self, name: str, targets: Callable[[], list[Target]], report: Callable[[dict[str, Any]], object],
                 refresh: float = 5.0) -> None:
        link = ServerLink("local", FunctionSource(targets), FunctionSink(report))
        self.prober = Prober(name, [link], refresh=refresh)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.prober.run(), name="local-prober")
        log.info("embedded prober %s started", self.prober.name)

    async def stop(self) -> None:
        self.prober.stop()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=STOP_SECONDS)

    def zones_changed(self) -> None:
        """Targets may have changed: read them again now rather than at the next refresh."""
        self.prober.request_refresh()
