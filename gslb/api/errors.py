"""The API's error replies: one shape for every route, `{"error": "<what is wrong>"}` as JSON."""

from __future__ import annotations

import json

from aiohttp import web


def json_error(kind: type[web.HTTPException], message: str, headers: dict[str, str] | None = None) -> web.HTTPException:
    """The error to raise: the status of `kind`, `message` in a JSON body, any extra `headers`."""
    return kind(text=json.dumps({"error": message}), content_type="application/json", headers=headers)
