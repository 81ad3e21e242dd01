"""URLs as they may appear in logs and error messages."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["redacted_url"]


def redacted_url(url: str) -> str:
    """A backend URL fit for logs and error messages: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}").geturl()
