"""The status page at `GET /`: one self-contained HTML document that renders `/status` in the browser.

Everything the page needs is in this module: the markup, the stylesheet, the script and a coarse
world map (a graticule and hand-drawn continent outlines, approximate coordinates written for this
page). It loads nothing from anywhere else, so it works on a machine with no internet access, and
its Content-Security-Policy says so: only this script and this stylesheet (by hash) and requests
to this server.

The script fetches `status` every few seconds and rebuilds the page's sections from the JSON with
`textContent` and `setAttribute` only: names from zone files never become markup.
"""

from __future__ import annotations

import base64
import hashlib
import json

from aiohttp import web

REFRESH_SECONDS = 2.5

# The map: equirectangular, 2 px per degree, from 80° N to 60° S (nothing of ours sits further
# out; a location beyond is drawn on the edge).
MAP_WEST, MAP_NORTH, MAP_SOUTH, MAP_SCALE = -180.0, 80.0, -60.0, 2.0
MAP_WIDTH = int(360 * MAP_SCALE)
MAP_HEIGHT = int((MAP_NORTH - MAP_SOUTH) * MAP_SCALE)

# Coarse outlines of the land, as (longitude, latitude) points. Drawn by hand for this page at a
# few degrees' accuracy: enough to tell the continents apart, not a map to navigate by.
LAND: dict[str, list[tuple[float, float]]] = {
    "north america": [
        (-166, 68), (-156, 71), (-140, 70), (-125, 70), (-110, 68), (-95, 70), (-85, 69), (-80, 63),
        (-93, 58), (-90, 55), (-82, 53), (-79, 56), (-77, 62), (-70, 60), (-62, 58), (-56, 52),
        (-60, 47), (-66, 44), (-70, 42), (-74, 40), (-76, 35), (-81, 31), (-80, 26), (-82, 27),
        (-84, 30), (-90, 30), (-97, 28), (-97, 22), (-94, 18), (-90, 21), (-87, 21), (-88, 16),
        (-83, 10), (-78, 8), (-80, 7), (-86, 11), (-92, 14), (-100, 17), (-106, 23), (-112, 30),
        (-110, 23), (-115, 30), (-118, 34), (-121, 36), (-124, 40), (-124, 47), (-128, 51),
        (-134, 57), (-140, 60), (-147, 61), (-154, 58), (-162, 55), (-158, 58), (-164, 60),
        (-166, 63),
    ],
    "greenland": [
        (-73, 78), (-60, 82), (-35, 83), (-20, 81), (-18, 76), (-22, 70), (-32, 68), (-40, 65),
        (-44, 60), (-50, 62), (-54, 67), (-56, 72), (-66, 76),
    ],
    "iceland": [(-24, 65.5), (-18, 66.5), (-14, 65), (-19, 63.4)],
    "cuba": [(-85, 22), (-80, 23), (-74, 20), (-78, 20)],
    "south america": [
        (-78, 8), (-72, 12), (-64, 11), (-60, 8), (-52, 5), (-50, 0), (-44, -2), (-35, -5),
        (-35, -9), (-39, -14), (-41, -22), (-48, -26), (-53, -33), (-58, -35), (-57, -38),
        (-62, -39), (-65, -42), (-65, -47), (-69, -51), (-68, -55), (-72, -53), (-75, -48),
        (-73, -40), (-71, -30), (-70, -18), (-76, -14), (-81, -6), (-80, -2), (-77, 4),
    ],
    "eurasia": [
        (-9, 43), (-9, 39), (-6, 36), (0, 38), (3, 42), (9, 44), (12, 44), (16, 40), (18, 40),
        (14, 45), (19, 42), (22, 37), (26, 40), (29, 41), (36, 36), (35, 33), (35, 28), (39, 21),
        (43, 13), (52, 16), (58, 21), (57, 24), (52, 24), (48, 30), (52, 27), (57, 26), (62, 25),
        (67, 24), (72, 21), (77, 8), (80, 13), (80, 16), (87, 21), (91, 22), (94, 18), (98, 16),
        (98, 8), (101, 3), (104, 1.5), (103, 6), (100, 13), (103, 11), (106, 9), (109, 12),
        (108, 16), (106, 20), (110, 21), (117, 23), (121, 28), (122, 31), (120, 34), (122, 37),
        (118, 38), (121, 40), (125, 40), (126, 35), (129, 35), (129, 41), (135, 43), (141, 48),
        (141, 53), (137, 54), (140, 58), (150, 59), (156, 57), (156, 51), (162, 56), (163, 60),
        (170, 60), (180, 65), (180, 69), (170, 70), (160, 70), (150, 72), (140, 72), (130, 71),
        (114, 73), (105, 77), (95, 76), (80, 73), (70, 73), (68, 68), (60, 69), (50, 68), (43, 66),
        (40, 67), (33, 69), (25, 71), (15, 69), (10, 64), (5, 62), (5, 58), (8, 58), (11, 59),
        (11, 56), (8, 55), (8, 54), (5, 53), (2, 51), (-2, 48), (-4, 48), (-1, 46), (-2, 43),
    ],
    "great britain": [
        (-5, 50), (1, 51), (2, 53), (0, 54), (-2, 56), (-2, 58), (-5, 58.5), (-6, 56), (-5, 55),
        (-3, 54), (-5, 52),
    ],
    "ireland": [(-10, 52), (-6, 52), (-6, 55), (-8, 55), (-10, 54)],
    "africa": [
        (-17, 21), (-16, 27), (-10, 30), (-9, 33), (-6, 36), (-2, 35), (10, 37), (11, 33), (20, 31),
        (30, 31), (32, 31), (33, 28), (36, 22), (39, 16), (43, 12), (51, 12), (51, 10), (48, 5),
        (41, -2), (40, -10), (40, -16), (35, -24), (33, -26), (32, -29), (27, -34), (20, -35),
        (18, -33), (15, -27), (12, -18), (14, -11), (12, -5), (9, -1), (9, 4), (6, 4), (2, 6),
        (-4, 5), (-8, 4), (-13, 8), (-17, 14),
    ],
    "madagascar": [(44, -25), (47, -25), (50, -15), (49, -12), (44, -16)],
    "sri lanka": [(80, 6), (82, 7.5), (80, 9.8)],
    "japan": [
        (130, 31), (131, 34), (135, 34), (140, 35), (141, 38), (142, 41), (140, 41), (139, 38),
        (136, 37), (133, 35.5), (130, 33.5),
    ],
    "hokkaido": [(140, 42), (145, 43), (142, 45.5)],
    "taiwan": [(120, 22), (122, 25), (121, 25)],
    "philippines": [(120, 18), (122, 18), (126, 7), (122, 7)],
    "sumatra": [(95, 5), (98, 4), (106, -6), (102, -4)],
    "java": [(106, -6), (114, -7), (114, -8.5), (106, -7)],
    "borneo": [(109, 2), (111, -3), (116, -4), (119, 1), (117, 7), (113, 3)],
    "sulawesi": [(119, -5), (121, 1), (125, 1), (121, -1), (123, -5)],
    "new guinea": [(131, -1), (141, -3), (150, -10), (143, -9), (137, -5)],
    "australia": [
        (114, -22), (114, -26), (115, -34), (118, -35), (124, -34), (129, -32), (135, -35),
        (138, -35), (140, -38), (147, -39), (150, -37), (153, -32), (153, -25), (150, -22),
        (146, -19), (145, -15), (142, -11), (141, -17), (136, -16), (137, -12), (132, -11),
        (129, -15), (125, -14), (122, -17), (119, -20),
    ],
    "tasmania": [(145, -41), (148, -41), (147, -43.5)],
    "new zealand": [(172, -34), (178, -38), (175, -42), (171, -46), (167, -46), (172, -41)],
}


def _xy(lon: float, lat: float) -> tuple[float, float]:
    lat = min(MAP_NORTH, max(MAP_SOUTH, lat))
    return (lon - MAP_WEST) * MAP_SCALE, (MAP_NORTH - lat) * MAP_SCALE


def _land_path() -> str:
    parts = []
    for outline in LAND.values():
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


STYLE = """
:root {
  --bg: #f6f8fa; --fg: #1f2328; --muted: #57606a; --card: #ffffff; --line: #d0d7de;
  --up: #1a7f37; --up-bg: #dafbe1; --up-fg: #0f5323;
  --degraded: #d4a72c; --degraded-bg: #fff4d0; --degraded-fg: #6b4400;
  --down: #cf222e; --down-bg: #ffe3e3; --down-fg: #8a0c18;
  --none: #8c959f; --none-bg: #eaeef2; --none-fg: #3d444d;
  --sea: #e8f1f8; --land: #d3dbe3; --coast: #a9b6c2; --grid: #c7d6e4;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem;
  padding: .8rem 1.5rem; background: #24292f; color: #ffffff; }
header h1 { margin: 0; font-size: 1.25rem; }
header .meta { color: #d0d7de; font-size: .9rem; }
#summary { font-weight: 600; }
#connection { padding: .15rem .6rem; border-radius: 1rem; font-size: .85rem; }
#connection[data-connection="ok"] { background: #2c974b; color: #ffffff; }
#connection[data-connection="error"] { background: #ffd8d3; color: #8a0c18; }
#connection[data-connection="loading"] { background: #57606a; color: #ffffff; }
main { padding: 1rem 1.5rem 2rem; display: grid; gap: 1rem; max-width: 1500px; margin: 0 auto;
  grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .75rem 1rem; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
h3 { font-size: 1rem; margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
tr:last-child > td { border-bottom: none; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: .85rem; }
.path { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.small { font-size: .8rem; }
.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; min-width: 5.2em; text-align: center; padding: .05rem .5rem;
  border-radius: 1rem; font-weight: 700; font-size: .8rem; text-transform: uppercase;
  letter-spacing: .04em; border: 1px solid; white-space: nowrap; }
.badge::before { content: "\\25CF\\00A0"; }
.badge.state-up { background: var(--up-bg); color: var(--up-fg); border-color: var(--up); }
.badge.state-up::before { content: "\\2714\\00A0"; }
.badge.state-degraded { background: var(--degraded-bg); color: var(--degraded-fg); border-color: var(--degraded); }
.badge.state-degraded::before { content: "\\25B2\\00A0"; }
.badge.state-down { background: var(--down-bg); color: var(--down-fg); border-color: var(--down); }
.badge.state-down::before { content: "\\2716\\00A0"; }
.badge.state-unknown, .badge.state-none { background: var(--none-bg); color: var(--none-fg);
  border-color: var(--none); }
.badge.state-unknown::before { content: "?\\00A0"; }
#map svg.world { width: 100%; height: auto; display: block; border-radius: 4px; }
.table-wrap { overflow-x: auto; }
#map .sea { fill: var(--sea); }
#map .grid { fill: none; stroke: var(--grid); stroke-width: .6; }
#map .land { fill: var(--land); stroke: var(--coast); stroke-width: .6; stroke-linejoin: round; }
#map .marker-shape { stroke: #1f2328; stroke-width: 1.2; }
#map .marker-label { font-size: 10.5px; font-weight: 700; fill: #1f2328; paint-order: stroke;
  stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
#map .marker-label .state { font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; margin: .5rem 0 0; padding: 0;
  list-style: none; font-size: .85rem; color: var(--muted); }
.legend svg { vertical-align: -2px; margin-right: .3rem; }
#unplaced { margin: .5rem 0 0; font-size: .9rem; }
#unplaced:empty { display: none; }
#unplaced .item { margin-right: 1rem; white-space: nowrap; }
.dot { display: inline-block; width: .8em; height: .8em; border-radius: 50%; background: var(--none);
  border: 1px solid #1f2328; vertical-align: -1px; margin-right: .3rem; }
#pools { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr)); }
.pool { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: .5rem .75rem; }
.pool[data-state="up"] { border-left-color: var(--up); }
.pool[data-state="down"] { border-left-color: var(--down); }
.pool-head { display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .75rem; margin-bottom: .3rem; }
.pool-head .muted { font-size: .85rem; }
.reports { margin: 0; padding: 0; list-style: none; }
.reports li { overflow-wrap: anywhere; }
.reports .stale { color: var(--muted); text-decoration: line-through; }
.verdict-up { color: var(--up-fg); font-weight: 700; }
.verdict-down { color: var(--down-fg); font-weight: 700; }
.override { color: #6639ba; font-weight: 600; }
#error { grid-column: 1 / -1; background: var(--down-bg); color: var(--down-fg); border: 1px solid var(--down);
  border-radius: 6px; padding: .5rem 1rem; font-weight: 600; }
#error[hidden] { display: none; }
@media (max-width: 1000px) { main { grid-template-columns: minmax(0, 1fr); } }
"""

# The legend swatches and the markers share the colours; the script reads them from here.
COLOURS = {"up": "#1a7f37", "degraded": "#d4a72c", "down": "#cf222e", "none": "#8c959f"}

SCRIPT = """
"use strict";
(() => {
  const REFRESH_MS = __REFRESH_MS__;
  const TIMEOUT_MS = 5000;
  const MAP = __MAP__;
  const COLOURS = __COLOURS__;
  const SVGNS = "http://www.w3.org/2000/svg";
  const root = document.documentElement;
  // A mark of this page load: a reload would change it, a re-render keeps it.
  root.dataset.loadId = String(Date.now()) + "-" + String(Math.random()).slice(2, 10);
  root.dataset.refreshes = "0";
  let refreshes = 0;
  let lastGood = null;

  // -- building elements: text only ever goes in as text nodes ---------------------------------
  function build(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const el = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
  const svg = (tag, attrs, ...children) => build(document.createElementNS(SVGNS, tag), attrs, children);
  const byId = (id) => document.getElementById(id);

  function badge(state, text) {
    const known = ["up", "degraded", "down", "unknown"].includes(state) ? state : "none";
    return el("span", {class: "badge state-" + known, "data-state": state}, text || state);
  }

  // -- times -------------------------------------------------------------------------------------
  function ago(iso) {
    if (!iso) return "";
    const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (!isFinite(seconds)) return "";
    if (seconds < 1) return "just now";
    if (seconds < 90) return seconds + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h ago";
    return Math.round(seconds / 86400) + " days ago";
  }
  function clock(iso) {
    const date = new Date(iso);
    if (isNaN(date)) return String(iso);
    const today = new Date().toISOString().slice(0, 10);
    const text = date.toISOString();
    return (text.slice(0, 10) === today ? "" : text.slice(0, 10) + " ") + text.slice(11, 19) + " UTC";
  }
  function when(iso, withAgo) {
    if (!iso) return el("span", {class: "muted"}, "never");
    const parts = [clock(iso)];
    if (withAgo !== false) parts.push(" (" + ago(iso) + ")");
    return el("time", {datetime: iso, title: iso}, ...parts);
  }
  const unix = (seconds) => new Date(seconds * 1000).toISOString();

  // -- the map -----------------------------------------------------------------------------------
  function project(lat, lon) {
    const clampedLat = Math.min(MAP.north, Math.max(MAP.south, lat));
    const clampedLon = Math.min(MAP.west + 360, Math.max(MAP.west, lon));
    return [(clampedLon - MAP.west) * MAP.scale, (MAP.north - clampedLat) * MAP.scale];
  }
  function shape(state, x, y, fill) {
    const common = {class: "marker-shape", fill: fill, "data-color": fill};
    if (state === "down") {  // a square
      return svg("rect", {...common, x: x - 5.5, y: y - 5.5, width: 11, height: 11});
    }
    if (state === "degraded") {  // a triangle
      return svg("path", {...common, d: `M${x},${y - 7}L${x + 7},${y + 5}L${x - 7},${y + 5}Z`});
    }
    return svg("circle", {...common, cx: x, cy: y, r: 6});
  }
  function renderMap(datacenters) {
    const layer = byId("markers");
    const unplaced = byId("unplaced");
    const names = new Map();
    for (const dc of datacenters) names.set(dc.name, (names.get(dc.name) || 0) + 1);
    const label = (dc) => names.get(dc.name) > 1 ? dc.name + " \\u00b7 " + dc.zone : dc.name;
    const markers = [];
    const boxes = [];  // [x0, y0, x1, y1] of what is drawn already: markers and labels
    const loose = [];
    const overlaps = (b) => boxes.some((o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]);
    // Down first in the list, drawn last: a red marker is never hidden under a green one.
    const order = {up: 0, degraded: 1, down: 2};
    const sorted = [...datacenters].sort((a, b) => (order[a.state] || 0) - (order[b.state] || 0));
    for (const dc of sorted) {
      if (!Array.isArray(dc.location)) { loose.push(dc); continue; }
      const [x, y] = project(dc.location[0], dc.location[1]);
      const fill = COLOURS[dc.state] || COLOURS.none;
      boxes.push([x - 7, y - 7, x + 7, y + 7]);
      // The label goes right of the marker (left near the east edge), moved up or down a line at
      // a time until it overprints no other marker or label.
      const width = (label(dc).length + dc.state.length + 1) * 6.6;
      const right = x + 9 + width < MAP.width;
      let dy = 0;
      for (const step of [0, 12, -12, 24, -24, 36, -36]) {
        const top = y - 6 + step;
        const box = right ? [x + 8, top, x + 10 + width, top + 12] : [x - 10 - width, top, x - 8, top + 12];
        if (!overlaps(box)) { dy = step; break; }
      }
      const top = y - 6 + dy;
      boxes.push(right ? [x + 8, top, x + 10 + width, top + 12] : [x - 10 - width, top, x - 8, top + 12]);
      const text = svg("text", {class: "marker-label", x: right ? x + 9 : x - 9, y: y + 4 + dy,
                                "text-anchor": right ? "start" : "end"},
        label(dc) + " ", svg("tspan", {class: "state"}, dc.state.toUpperCase()));
      const title = svg("title", {}, `${dc.name} (${dc.zone}): ${dc.state}, ` +
        `${dc.members_up} of ${dc.members_total} members up, ${dc.members_unknown} unknown`);
      markers.push(svg("g", {class: "marker state-" + dc.state, "data-zone": dc.zone, "data-name": dc.name,
                             "data-state": dc.state}, title, shape(dc.state, x, y, fill), text));
    }
    layer.replaceChildren(...markers);
    const items = loose.map((dc) => el("span", {class: "item", "data-zone": dc.zone, "data-name": dc.name,
                                                  "data-state": dc.state, "data-color": COLOURS.none},
      el("span", {class: "dot"}), label(dc) + " ", badge(dc.state, dc.state)));
    unplaced.replaceChildren(...(items.length ? [el("strong", {}, "No location: "), ...items] : []));
  }

  // -- the tables --------------------------------------------------------------------------------
  function table(headers, rows, emptyText) {
    if (!rows.length) return el("p", {class: "empty"}, emptyText);
    const head = el("tr", {}, ...headers.map(([text, cls]) => el("th", {class: cls, scope: "col"}, text)));
    return el("div", {class: "table-wrap"}, el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
  }
  function renderDatacenters(datacenters) {
    const rows = datacenters.map((dc) => el("tr", {class: "dc", "data-zone": dc.zone, "data-name": dc.name,
                                                   "data-state": dc.state},
      el("td", {}, el("strong", {}, dc.name), el("br"), el("span", {class: "muted small"}, dc.zone)),
      el("td", {}, badge(dc.state)),
      el("td", {}, `${dc.members_up} of ${dc.members_total} up`,
        dc.members_unknown ? el("br") : null,
        dc.members_unknown ? el("span", {class: "muted small"}, `${dc.members_unknown} unknown`) : null),
      el("td", {class: "mono small"}, Array.isArray(dc.location)
        ? `${dc.location[0].toFixed(1)}, ${dc.location[1].toFixed(1)}` : el("span", {class: "muted"}, "none"))));
    byId("datacenters").replaceChildren(table(
      [["Datacenter"], ["State"], ["Members"], ["Lat, lon"]], rows, "No datacenters: no zone defines any."));
  }
  function renderOverride(override) {
    if (!override) return el("span", {class: "muted"}, "\\u2014");
    const scope = override.kind === "members" ? "member" : override.kind === "pools"
      ? "pool " + override.name : "datacenter " + override.name;
    const parts = [`forced ${override.state} (${scope})`];
    if (override.reason) parts.push(": " + override.reason);
    if (override.by) parts.push(", by " + override.by);
    const node = el("span", {class: "override", "data-override": override.state}, ...parts);
    if (override.expires) {
      const until = el("span", {class: "muted"}, "until ", when(unix(override.expires), false));
      return el("span", {}, node, el("br"), until);
    }
    return node;
  }
  function renderReports(member) {
    if (!member.probed) return el("span", {class: "muted"}, "not probed");
    if (!member.reports.length) return el("span", {class: "muted"}, "no reports yet");
    return el("ul", {class: "reports"}, ...member.reports.map((r) => {
      const bits = [r.prober + ": ", el("span", {class: r.up ? "verdict-up" : "verdict-down"}, r.up ? "up" : "down")];
      if (r.rtt_ms !== null && r.rtt_ms !== undefined) bits.push(` ${Number(r.rtt_ms).toFixed(1)} ms`);
      if (r.error) bits.push(" \\u2014 " + r.error);
      bits.push(" \\u00b7 " + ago(r.received));
      if (!r.fresh) bits.push(" (stale, ignored)");
      return el("li", {class: r.fresh ? "fresh" : "stale", title: r.received}, ...bits);
    }));
  }
  function renderPools(pools) {
    const cards = pools.map((pool) => {
      const rows = pool.members.map((m) => el("tr", {class: "member", "data-address": m.address, "data-state": m.state},
        el("td", {class: "mono"}, m.address),
        el("td", {}, badge(m.state)),
        el("td", {}, m.since ? el("time", {datetime: m.since, title: m.since}, ago(m.since).replace(" ago", "")) :
          el("span", {class: "muted"}, "\\u2014")),
        el("td", {}, renderOverride(m.override)),
        el("td", {}, renderReports(m))));
      return el("article", {class: "pool", "data-zone": pool.zone, "data-name": pool.name, "data-state": pool.state},
        el("div", {class: "pool-head"},
          el("h3", {}, pool.name), badge(pool.state),
          el("span", {class: "muted"}, `datacenter ${pool.datacenter || "\\u2014"} \\u00b7 zone ${pool.zone}` +
            ` \\u00b7 needs ${pool.min_healthy} up`)),
        table([["Member"], ["State"], ["For"], ["Override"], ["Prober reports"]], rows,
          "No members."));
    });
    byId("pools").replaceChildren(...(cards.length ? cards : [el("p", {class: "empty"}, "No pools.")]));
  }
  function renderProbers(probers) {
    const rows = probers.map((p) => el("tr", {class: "prober", "data-name": p.name},
      el("td", {}, el("strong", {}, p.name)),
      el("td", {}, p.datacenter || (Array.isArray(p.location) ? p.location.join(", ")
        : el("span", {class: "muted"}, "\\u2014"))),
      el("td", {}, when(p.last_report))));
    byId("probers").replaceChildren(table([["Prober"], ["Where"], ["Last report"]], rows,
      "No prober has reported since this server started."));
  }
  function renderZones(zones) {
    const rows = zones.map((z) => el("tr", {class: "zone", "data-zone": z.zone},
      el("td", {}, el("strong", {}, z.zone)),
      el("td", {class: "num mono"}, String(z.serial)),
      el("td", {}, when(z.loaded_at)),
      el("td", {class: "muted mono path"}, z.file || "")));
    byId("zones").replaceChildren(table([["Zone"], ["Serial", "num"], ["Loaded"], ["File"]], rows,
      "No zone is loaded."));
  }
  function renderSummary(status) {
    const counts = {up: 0, degraded: 0, down: 0};
    for (const dc of status.datacenters) counts[dc.state] = (counts[dc.state] || 0) + 1;
    const total = status.datacenters.length;
    let text;
    if (!total) text = "no datacenters";
    else if (counts.up === total) text = `all ${total} datacenter${total === 1 ? "" : "s"} up`;
    else text = ["down", "degraded", "up"].filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ");
    const summary = byId("summary");
    summary.textContent = text;
    summary.dataset.worst = counts.down ? "down" : counts.degraded ? "degraded" : "up";
    const backend = status.health_backend || {};
    const disconnected = backend.connected === false ? " (disconnected)" : "";
    byId("backend").textContent = `health: ${backend.kind || "?"}${disconnected}`;
    document.title = (counts.down ? "\\u2716 " : counts.degraded ? "\\u25B2 " : "") + "gslb status: " + text;
  }

  function render(status) {
    renderSummary(status);
    renderMap(status.datacenters);
    renderDatacenters(status.datacenters);
    renderPools(status.pools);
    renderProbers(status.probers);
    renderZones(status.zones);
  }

  function setConnection(ok, message) {
    const connection = byId("connection");
    connection.dataset.connection = ok ? "ok" : "error";
    connection.textContent = ok ? "live" : "not updating";
    const error = byId("error");
    error.hidden = ok;
    error.textContent = ok ? "" : message;
  }

  async function refresh() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch("status", {cache: "no-store", signal: abort.signal,
                                              headers: {Accept: "application/json"}});
      if (!response.ok) throw new Error("HTTP " + response.status);
      const status = await response.json();
      render(status);
      lastGood = new Date();
      refreshes += 1;
      root.dataset.refreshes = String(refreshes);
      byId("updated").textContent = "updated " + clock(lastGood.toISOString());
      byId("updated").dataset.at = lastGood.toISOString();
      setConnection(true);
    } catch (error) {
      const reason = error && error.name === "AbortError" ? "no answer in time"
        : String(error && error.message || error);
      setConnection(false, "Cannot read /status (" + reason + "). " + (lastGood
        ? "What you see is from " + clock(lastGood.toISOString()) + "; retrying every " + REFRESH_MS / 1000 + " s."
        : "Retrying every " + REFRESH_MS / 1000 + " s."));
    } finally {
      clearTimeout(timer);
      setTimeout(refresh, REFRESH_MS);
    }
  }
  refresh();
})();
"""


def _legend_swatch(state: str) -> str:
    colour = COLOURS[state]
    shapes = {
        "up": f'<circle cx="7" cy="7" r="5.5" fill="{colour}"/>',
        "degraded": f'<path d="M7,1L13,12L1,12Z" fill="{colour}"/>',
        "down": f'<rect x="2" y="2" width="10" height="10" fill="{colour}"/>',
        "none": f'<circle cx="7" cy="7" r="5.5" fill="{colour}"/>',
    }
    return (f'<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
            f'<g stroke="#1f2328" stroke-width="1">{shapes[state]}</g></svg>')


def _script() -> str:
    map_info = {"west": MAP_WEST, "north": MAP_NORTH, "south": MAP_SOUTH, "scale": MAP_SCALE, "width": MAP_WIDTH}
    return (SCRIPT.replace("__REFRESH_MS__", str(int(REFRESH_SECONDS * 1000)))
            .replace("__MAP__", json.dumps(map_info))
            .replace("__COLOURS__", json.dumps(COLOURS)))


def _build_page() -> tuple[str, str]:
    """The document and its Content-Security-Policy (the inline script and style allowed by hash)."""
    script, style = _script(), STYLE
    legend = "".join(
        f"<li>{_legend_swatch(state)}{text}</li>"
        for state, text in (("up", "up: every member counts as up"),
                            ("degraded", "degraded: some members down"),
                            ("down", "down: no member up"),
                            ("none", "grey: no location in the zone file")))
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gslb status</title>
<style>{style}</style>
</head>
<body>
<header>
  <h1>gslb status</h1>
  <span id="summary" class="meta" aria-live="polite">loading\u2026</span>
  <span id="connection" data-connection="loading">loading</span>
  <span id="updated" class="meta"></span>
  <span id="backend" class="meta"></span>
</header>
<main>
  <div id="error" role="alert" hidden></div>
  <noscript><section class="card wide">This page needs JavaScript to render.
    The same data is at <a href="status">/status</a> as JSON.</section></noscript>
  <section class="card" id="map" aria-labelledby="map-title">
    <h2 id="map-title">Datacenters on the map</h2>
    <svg class="world" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" role="img"
      aria-label="World map with a marker per datacenter; the datacenters table lists the same states as text">
      <rect class="sea" x="0" y="0" width="{MAP_WIDTH}" height="{MAP_HEIGHT}"/>
      <path class="grid" d="{_graticule_path()}"/>
      <path class="land" d="{_land_path()}"/>
      <g id="markers"></g>
    </svg>
    <ul class="legend">{legend}</ul>
    <p id="unplaced"></p>
  </section>
  <section class="card" aria-labelledby="dc-title">
    <h2 id="dc-title">Datacenters</h2>
    <div id="datacenters"></div>
  </section>
  <section class="card wide" aria-labelledby="pools-title">
    <h2 id="pools-title">Pools and members</h2>
    <div id="pools"></div>
  </section>
  <section class="card" aria-labelledby="probers-title">
    <h2 id="probers-title">Probers</h2>
    <div id="probers"></div>
  </section>
  <section class="card" aria-labelledby="zones-title">
    <h2 id="zones-title">Zones</h2>
    <div id="zones"></div>
  </section>
</main>
<script>{script}</script>
</body>
</html>
"""

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    policy = (f"default-src 'none'; script-src {digest(script)}; style-src {digest(style)}; "
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
