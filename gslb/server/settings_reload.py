"""What a reload does with `gslb.yaml`: read it again, apply what can be applied, say what cannot.

Applied at once: the API tokens (every token file is read again, so a token is rotated by writing
the new one and reloading) and the TLS certificate and key (read again into the live context).
Every other setting needs a restart: each one that changed is logged once per reload, and the
server goes on with the value it started with. A config file that no longer reads changes
nothing; its problems are logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from gslb.config.changes import needing_restart
from gslb.config.load import ConfigError, load_config
from gslb.config.model import Config
from gslb.config.tokens import ApiTokens, TokenFileError, read_tokens
from gslb.server.http_listener import HttpListener

log = logging.getLogger("gslb")


@dataclass
class SettingsReload:
    """The outcome: new tokens (None: keep the ones in use), problems, settings waiting for a restart."""

    tokens: ApiTokens | None = None
    problems: list[str] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, list[str]]:
        return {"problems": self.problems, "restart_needed": self.restart_needed}


def _read(running: Config) -> tuple[Config, ApiTokens]:
    """The config file and the token files as they are now (blocking: run in a thread)."""
    config = load_config(str(running.file)) if running.file is not None else running
    return config, read_tokens(config.http)


async def reload_settings(running: Config, listener: HttpListener | None, trigger: str) -> SettingsReload:
    """Read the settings again and apply tokens and certificates; `running` (the config the server
    started with) stays the reference for what needs a restart."""
    outcome = SettingsReload()
    try:
        config, tokens = await asyncio.to_thread(_read, running)
    except ConfigError as exc:
        outcome.problems = [str(problem) for problem in exc.problems]
        for problem in outcome.problems:
            log.error("config not reloaded (%s): %s", trigger, problem,
                      extra={"event": "config_rejected", "trigger": trigger, "problem": problem})
        return outcome
    except TokenFileError as exc:
        outcome.problems = [str(exc)]
        log.error("tokens not reloaded (%s): %s; the tokens in use stay", trigger, exc,
                  extra={"event": "config_rejected", "trigger": trigger, "problem": str(exc)})
        return outcome
    outcome.tokens = tokens
    if listener is not None and config.http.tls is not None:  # a plain-HTTP listener ignores it
        problem = listener.reload_certificates(config.http.tls)
        if problem is not None:
            outcome.problems.append(problem)
    outcome.restart_needed = needing_restart(running, config)
    for key in outcome.restart_needed:
        log.warning("%s changed in %s: it takes effect at the next restart (a reload cannot apply it)", key,
                    running.file, extra={"event": "restart_needed", "setting": key})
    return outcome
