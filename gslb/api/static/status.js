"use strict";
(() => {
  // Filled in by the server (gslb/api/page.py), in the data-config attribute of the body.
  const CONFIG = JSON.parse(document.body.dataset.config);
  const REFRESH_MS = CONFIG.refreshMs;
  const TIMEOUT_MS = 5000;
  const MAP = CONFIG.map;  // the projection of the map drawn in the page
  const COLOURS = CONFIG.colours;  // by state, for the markers
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
    const label = (dc) => names.get(dc.name) > 1 ? dc.name + " \u00b7 " + dc.zone : dc.name;
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
    if (!override) return el("span", {class: "muted"}, "\u2014");
    const scope = override.kind === "members" ? "member" : override.kind === "pools"
      ? "pool " + override.name : "datacenter " + override.name;
    const parts = [`forced ${override.state} (${scope})`];
    if (override.reason) parts.push(": " + override.reason);
    if (override.by) parts.push(", by " + override.by);
    const node = el("span", {class: "override", "data-override": override.state}, ...parts);
    if (override.expires) {
      const until = el("span", {class: "muted"}, "until ", when(override.expires, false));
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
      if (r.error) bits.push(" \u2014 " + r.error);
      bits.push(" \u00b7 " + ago(r.received));
      if (!r.fresh) bits.push(" (stale)");
      return el("li", {class: r.fresh ? "fresh" : "stale", title: r.received}, ...bits);
    }));
  }
  const FAMILY_NAMES = {ipv4: "IPv4", ipv6: "IPv6"};
  function renderFamilies(pool) {
    // A dual-stack pool is judged per family: show each, since A and AAAA can differ.
    const families = Object.entries(pool.families || {});
    if (families.length < 2) return null;
    return el("span", {class: "families"}, ...families.map(([family, judged]) =>
      el("span", {class: "family", "data-family": family, "data-state": judged.state},
        (FAMILY_NAMES[family] || family) + " ", badge(judged.state),
        el("span", {class: "muted small"}, ` ${judged.members_up} of ${judged.members_total}`))));
  }
  function needs(pool) {
    const families = Object.entries(pool.families || {});
    if (families.length < 2) return `needs ${pool.min_healthy} up`;
    return "needs " + families.map(([family, judged]) => `${judged.needed} ${FAMILY_NAMES[family] || family}`)
      .join(", ") + " up";
  }
  function renderPools(pools) {
    const cards = pools.map((pool) => {
      const rows = pool.members.map((m) => el("tr", {class: "member", "data-address": m.address, "data-state": m.state,
                                                    "data-stale": m.stale ? "true" : "false"},
        el("td", {class: "mono"}, m.address),
        el("td", {}, badge(m.state), m.stale ? el("span", {class: "stale-mark",
          title: "every verdict is stale: this is the last known state"}, "stale") : null),
        el("td", {}, m.since ? el("time", {datetime: m.since, title: m.since}, ago(m.since).replace(" ago", "")) :
          el("span", {class: "muted"}, "\u2014")),
        el("td", {}, renderOverride(m.override)),
        el("td", {}, renderReports(m))));
      return el("article", {class: "pool", "data-zone": pool.zone, "data-name": pool.name, "data-state": pool.state},
        el("div", {class: "pool-head"},
          el("h3", {}, pool.name), badge(pool.state), renderFamilies(pool),
          el("span", {class: "muted"}, `datacenter ${pool.datacenter || "\u2014"} \u00b7 zone ${pool.zone}` +
            ` \u00b7 ${needs(pool)}`)),
        table([["Member"], ["State"], ["For"], ["Override"], ["Prober reports"]], rows,
          "No members."));
    });
    byId("pools").replaceChildren(...(cards.length ? cards : [el("p", {class: "empty"}, "No pools.")]));
  }
  function renderProbers(probers) {
    const rows = probers.map((p) => el("tr", {class: "prober" + (p.silent ? " silent" : ""), "data-name": p.name,
                                              "data-silent": p.silent ? "true" : "false"},
      el("td", {}, el("strong", {}, p.name)),
      el("td", {}, p.datacenter || (Array.isArray(p.location) ? p.location.join(", ")
        : el("span", {class: "muted"}, "\u2014"))),
      el("td", {}, when(p.last_report), p.silent ? el("span", {class: "silent-mark"}, "silent") : null)));
    byId("probers").replaceChildren(table([["Prober"], ["Where"], ["Last report"]], rows,
      "No prober has reported since this server started."));
  }
  function renderZones(zones, files) {
    const rejected = new Set((files || []).filter((f) => !f.latest).map((f) => f.file));
    const rows = zones.map((z) => el("tr", {class: "zone", "data-zone": z.zone,
                                            "data-latest": rejected.has(z.file) ? "false" : "true"},
      el("td", {}, el("strong", {}, z.zone), rejected.has(z.file)
        ? el("span", {class: "rejected-mark"}, "newer version rejected") : null),
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
    const staleCount = ((status.monitoring || {}).stale_targets || []).length;
    const stale = byId("stale");
    stale.hidden = staleCount === 0;
    stale.dataset.count = String(staleCount);
    stale.textContent = `${staleCount} stale target${staleCount === 1 ? "" : "s"}`;
    const backend = status.health_backend || {};
    const disconnected = backend.connected === false ? " (disconnected)" : "";
    byId("backend").textContent = `health: ${backend.kind || "?"}${disconnected}`;
    document.title = (counts.down ? "\u2716 " : counts.degraded ? "\u25B2 " : "") + "gslb status: " + text;
  }

  // -- banners: what the rest of the page cannot be trusted for -------------------------------
  function banner(id, parts) {
    const node = byId(id);
    node.hidden = parts.length === 0;
    node.replaceChildren(...parts);
  }
  function renderBlind(monitoring) {
    const silent = monitoring.silent_probers || [];
    const stale = monitoring.stale_targets || [];
    const parts = [];
    if (silent.length || stale.length) {
      parts.push(el("strong", {}, "Health is partly blind: answers rest on what was last known."));
    }
    if (silent.length) {
      parts.push(el("p", {class: "silent-probers"}, `Silent for more than ${monitoring.stale_after} s: `,
        ...silent.map((p, i) => el("span", {class: "name", "data-prober": p.name}, (i ? ", " : "") + p.name +
          ` (last report ${ago(p.last_report) || "never"})`))));
    }
    if (stale.length) {
      parts.push(el("p", {class: "stale-targets"},
        `${stale.length} target${stale.length === 1 ? "" : "s"} kept at the last known state: `,
        ...stale.map((t, i) => el("span", {class: "name", "data-target": t.target}, (i ? ", " : "") +
          `${t.address} ${t.state} (last verdict ${ago(t.last_verdict)})`))));
    }
    banner("blind", parts);
  }
  function renderReloads(files) {
    const rejected = (files || []).filter((f) => !f.latest);
    const parts = rejected.length
      ? [el("strong", {}, "A zone file was rejected: what is served is not the file as it is now.")] : [];
    for (const f of rejected) {
      const serving = f.zone ? `${f.zone} keeps serving serial ${f.serial}` : "nothing is served from it";
      parts.push(el("div", {class: "rejected-file", "data-file": f.file},
        el("span", {class: "mono path"}, f.file), ` rejected at ${clock(f.last_attempt.time)}` +
          ` (reload by ${f.last_attempt.trigger}); ${serving}.`,
        el("ul", {}, ...f.last_attempt.errors.map((e) => el("li", {class: "mono"}, e)))));
    }
    banner("reloads", parts);
  }

  function render(status) {
    renderSummary(status);
    renderBlind(status.monitoring || {});
    renderReloads(status.zone_files);
    renderMap(status.datacenters);
    renderDatacenters(status.datacenters);
    renderPools(status.pools);
    renderProbers(status.probers);
    renderZones(status.zones, status.zone_files);
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
