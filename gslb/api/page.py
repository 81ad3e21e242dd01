"""The status page at `GET /`: one self-contained HTML document that renders `/status` in the browser.

The markup, stylesheet, script and map outlines are files in `static/` beside this module. They are
put together once, at import, into one document with the stylesheet and the script inline, so the
page loads nothing from anywhere else and works on a machine with no internet access. Its
Content-Security-Policy says so: only this script and this stylesheet (by hash) and requests to
this server.

The script fetches `status` every few seconds and rebuilds the page's sections from the JSON with
`textContent` and `setAttribute` only: names from zone files never become markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib.resources import files
from string import Template

from aiohttp import web

REFRESH_SECONDS = 2.5

# The map: equirectangular, 2 px per degree, from 80° N to 60° S (nothing of ours sits further
# out; a location beyond is drawn on the edge).
MAP_WEST, MAP_NORTH, MAP_SOUTH, MAP_SCALE = -180.0, 80.0, -60.0, 2.0
MAP_WIDTH = int(360 * MAP_SCALE)
MAP_HEIGHT = int((MAP_NORTH - MAP_SOUTH) * MAP_SCALE)

# The markers' colours by state, handed to the script; status.css names the same ones (--up, ...).
COLOURS = {"up": "#1a7f37", "degraded": "#d4a72c", "down": "#cf222e", "none": "#8c959f"}

STATIC = files(__package__) / "static"


def static_text(name: str) -> str:
    return STATIC.joinpath(name).read_text(encoding="utf-8")


def _xy(lon: float, lat: float) -> tuple[float, float]:
    lat = min(MAP_NORTH, max(MAP_SOUTH, lat))
    return (lon - MAP_WEST) * MAP_SCALE, (MAP_NORTH - lat) * MAP_SCALE


def _land_path(land: dict[str, list[list[float]]]) -> str:
    """The coastlines as one SVG path, from land.json: hand-drawn (longitude, latitude) outlines,
    a few degrees off at worst, enough to tell the continents apart."""
    parts = []
    for outline in land.values():
        points = [_xy(lon, lat) for lon, lat in outline]
        parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(parts)


def _graticule_path() -> str:
    parts = []
    for lon in range(-150, 180, 30):
        x, _ = _xy(lon, 0)
        parts.append(f"M{x:g},0V{MAP_HEIGHT}")
    for lat in range(-60, 90, 30):
        if MAP_SOUTH < lat < MAP_NORTH:
            _, y = _xy(0, lat)
            parts.append(f"M0,{y:g}H{MAP_WIDTH}")
    return "".join(parts)


def _inline(name: str) -> str:
    """A static file to inline as the page's script or stylesheet, which any `</` could end early."""
    text = static_text(name)
    if "</" in text:
        raise ValueError(f"{name} contains '</' and cannot be inlined")
    return text


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _build_page() -> tuple[str, str]:
    """The document and its Content-Security-Policy (the inline script and style allowed by hash)."""
    script, style = _inline("status.js"), _inline("status.css")
    # Everything the script needs from here goes in the body's data-config attribute, as JSON.
    config = {
        "refreshMs": int(REFRESH_SECONDS * 1000),
        "map": {"west": MAP_WEST, "north": MAP_NORTH, "south": MAP_SOUTH, "scale": MAP_SCALE, "width": MAP_WIDTH},
        "colours": COLOURS,
    }
    page = Template(static_text("status.html")).substitute(
        style=style,
        script=script,
        config=html.escape(json.dumps(config)),
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        graticule=_graticule_path(),
        land=_land_path(json.loads(static_text("land.json"))),
    )
    policy = (f"default-src 'none'; script-src {_digest(script)}; style-src {_digest(style)}; "
              "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")
    return page, policy


PAGE, CONTENT_SECURITY_POLICY = _build_page()


async def status_page(request: web.Request) -> web.Response:
    """`GET /`: the status page. The data comes from `/status`, fetched by the page itself."""
    return web.Response(
        text=PAGE,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
