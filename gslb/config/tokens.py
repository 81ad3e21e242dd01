"""The HTTP API's bearer tokens, one per role, read from the files `gslb.yaml` names.

- `http.token_file` (or `GSLB_TOKEN`, which wins): one token for everything, enough for a small
  setup;
- `http.prober_token_file`: probers (`/v1/targets`, `/v1/reports`);
- `http.operator_token_file`: operators (overrides, reload), who may also read;
- `http.read_token_file`: when set, `/status`, `/metrics` and the other reads need it (or the
  operator's, or the one token).

Every role needs a token of its own: two roles with the same token would let a prober act as an
operator, so that is refused. The files are read at start and again on SIGHUP (rotation without
a restart); a file that cannot be read is an error naming the setting, never silently no token.
Tokens never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from gslb.common.secret_file import read_secret_file
from gslb.config.model import HttpConfig

TOKEN_ENV = "GSLB_TOKEN"
# Each role's field of HttpConfig, in the order tokens are checked for sharing; the rest derive from it.
FIELD = {"all": "token_file", "prober": "prober_token_file", "operator": "operator_token_file",
         "read": "read_token_file"}
ROLES = tuple(FIELD)
SETTING = {role: f"http.{name}" for role, name in FIELD.items()}


class TokenFileError(Exception):
    """A configured token file cannot be used; the message names the setting and the file."""


@dataclass(frozen=True)
class ApiTokens:
    """The token of each role; None where none is configured."""

    all: str | None = field(default=None, repr=False)
    prober: str | None = field(default=None, repr=False)
    operator: str | None = field(default=None, repr=False)
    read: str | None = field(default=None, repr=False)

    def configured(self) -> dict[str, str]:
        """role -> token, for the roles that have one."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name))}

    def __bool__(self) -> bool:
        return bool(self.configured())


def token_from_env(env: Mapping[str, str]) -> str:
    """The one token `GSLB_TOKEN` gives (it wins over any token file), "" when unset or blank."""
    return env.get(TOKEN_ENV, "").strip()


def _read(path: Path, setting: str) -> str:
    try:
        token = read_secret_file(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TokenFileError(f"{setting}: cannot read {path}: {reason}") from None
    if not token:
        raise TokenFileError(f"{setting}: {path} is empty")
    return token


def read_tokens(http: HttpConfig, env: Mapping[str, str] | None = None) -> ApiTokens:
    """Every configured token; raises TokenFileError for an unreadable or empty file or a shared token."""
    env = os.environ if env is None else env
    values: dict[str, str | None] = {}
    for role, name in FIELD.items():
        path: Path | None = getattr(http, name)
        values[role] = _read(path, SETTING[role]) if path is not None else None
    from_env = token_from_env(env)
    if from_env:
        values["all"] = from_env
    seen: dict[str, str] = {}
    for role in ROLES:
        token = values[role]
        if token is None:
            continue
        if token in seen:
            raise TokenFileError(f"{SETTING[role]}: holds the same token as {SETTING[seen[token]]}; "
                                 "each role needs a token of its own")
        seen[token] = role
    return ApiTokens(**values)
