// lifecircle workbench, the map (一张图): inline SVG in the scenario's projected metres, north up,
// pan by drag, zoom by wheel or buttons, hover tooltips, click a site for a what-if. Loaded before
// app.js, which holds the state S and the helpers ($, el, t, money, people) these functions call.
"use strict";

const SHAPES = ["circle", "square", "diamond", "triangle", "hexagon"];
const SVGNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// A loop, not Math.min(...xs): a spread of a few hundred thousand points overflows the stack.
function bounds(scen) {
  const box = { minx: Infinity, maxx: -Infinity, miny: Infinity, maxy: -Infinity };
  const add = (x, y) => {
    if (x < box.minx) box.minx = x;
    if (x > box.maxx) box.maxx = x;
    if (y < box.miny) box.miny = y;
    if (y > box.maxy) box.maxy = y;
  };
  scen.demand.forEach((d) => add(d.x, d.y));
  scen.sites.forEach((s) => add(s.x, s.y));
  (scen.existing || []).forEach((e) => add(e.x, e.y));
  (scen.boundary || []).forEach(([x, y]) => add(x, y));
  if (!isFinite(box.minx)) return { minx: 0, maxx: 1, miny: 0, maxy: 1 };
  return box;
}

// Map coordinates: x east as is, y north flipped so the SVG draws north up.
const px = (x) => x - S.box.minx;
const py = (y) => S.box.maxy - y;

function drawMap() {
  const map = $("#map");
  map.replaceChildren();
  const scen = S.scen;
  S.box = bounds(scen);
  const layers = {};
  for (const name of ["boundary", "network", "reach", "demand", "existing", "sites"]) {
    layers[name] = svg("g", { class: `layer-${name}` }, map);
  }
  S.layers = layers;
  if (scen.boundary && scen.boundary.length) {
    const d = scen.boundary.map(([x, y], n) => `${n ? "L" : "M"}${px(x)},${py(y)}`).join("") + "Z";
    svg("path", { d, class: "boundary" }, layers.boundary);
  }
  if (scen.network && scen.network.length) {
    const d = scen.network.map(([[x1, y1], [x2, y2]]) => `M${px(x1)},${py(y1)}L${px(x2)},${py(y2)}`).join("");
    svg("path", { d, class: "network" }, layers.network);
  }
  S.demandNodes = scen.demand.map((d) => {
    const c = svg("circle", { cx: px(d.x), cy: py(d.y), class: "demand" }, layers.demand);
    c.addEventListener("mouseenter", (ev) => tip(ev, demandTip(d), () => demandTip(d)));
    c.addEventListener("mouseleave", hideTip);
    return c;
  });
  S.existingNodes = (scen.existing || []).map((e) => {
    const node = svg("path", { class: "existing" }, layers.existing);
    node._xy = [px(e.x), py(e.y)];
    const label = (S.types.get(e.type) || {}).label || e.type;
    node.addEventListener("mouseenter", (ev) => tip(ev, [t("existing"), label]));
    node.addEventListener("mouseleave", hideTip);
    return node;
  });
  S.siteNodes = new Map();
  for (const s of scen.sites) {
    const node = svg("path", { "data-site-id": s.id, class: "site candidate" }, layers.sites);
    node._xy = [px(s.x), py(s.y)];
    node._shape = SHAPES[S.kinds.indexOf(s.kind) % SHAPES.length];
    node.addEventListener("mouseenter", (ev) => { tip(ev, siteTip(s), () => siteTip(s)); setHighlight(s.id); });
    node.addEventListener("mouseleave", () => { hideTip(); setHighlight(null); });
    node.addEventListener("click", () => { if (!S.dragged) toggleSite(s.id); });
    S.siteNodes.set(s.id, node);
  }
  paint();
}

function fitView() {
  const w = S.box.maxx - S.box.minx || 1, h = S.box.maxy - S.box.miny || 1;
  // Room round the edges, and more below where the legend lies over the map.
  const pad = 0.06 * Math.max(w, h);
  setView({ x: -pad, y: -pad, w: w + 2 * pad, h: h + 3 * pad });
}

// Marker sizes follow the zoom so a point stays a few pixels wide at any scale. A pan keeps the
// scale and touches no marker; a zoom resizes the sites at once and the (maybe tens of thousands
// of) demand points once the wheel rests, so zooming a large district stays smooth.
function setView(v) {
  S.view = v;
  const map = $("#map");
  const rect = map.getBoundingClientRect(); // read before the viewBox changes: no forced layout
  map.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  const unit = Math.max(v.w / (rect.width || 800), v.h / (rect.height || 600));
  if (unit === S.unit && S.sized === S.demandNodes) return;
  S.unit = unit;
  for (const node of S.existingNodes) node.setAttribute("d", shape("cross", node._xy, 8 * unit));
  for (const node of S.siteNodes.values()) node.setAttribute("d", shape(node._shape, node._xy, 9 * unit));
  drawScale(unit);
  clearTimeout(S.resizeTimer);
  const resize = () => {
    for (const c of S.demandNodes) c.setAttribute("r", String(2.2 * S.unit));
    S.sized = S.demandNodes;
  };
  if (S.demandNodes.length > 5000 && S.sized === S.demandNodes) S.resizeTimer = setTimeout(resize, 150);
  else resize();
}

// A scale bar of a round length, 60 to 150 px (the map is in metres: one unit is one metre).
function drawScale(unit) {
  const target = 150 * unit;
  const step = 10 ** Math.floor(Math.log10(target));
  const metres = [1, 2, 5, 10].map((f) => f * step).filter((m) => m <= target).pop();
  $("#scale-bar").style.width = `${metres / unit}px`;
  $("#scale-text").textContent = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
}

function shape(kind, [x, y], s) {
  const h = s / 2;
  if (kind === "square") return `M${x - h},${y - h}h${s}v${s}h${-s}Z`;
  if (kind === "diamond") return `M${x},${y - s * 0.65}L${x + s * 0.65},${y}L${x},${y + s * 0.65}L${x - s * 0.65},${y}Z`;
  if (kind === "triangle") return `M${x},${y - s * 0.6}L${x + s * 0.6},${y + s * 0.45}L${x - s * 0.6},${y + s * 0.45}Z`;
  if (kind === "cross") { // existing facilities: a shape no site kind uses
    const a = s / 6;
    return `M${x - a},${y - h}h${2 * a}v${h - a}h${h - a}v${2 * a}h${a - h}v${h - a}h${-2 * a}v${a - h}h${a - h}v${-2 * a}h${h - a}Z`;
  }
  if (kind === "hexagon") {
    const pts = [0, 1, 2, 3, 4, 5].map((n) => [x + h * 1.1 * Math.cos(n * Math.PI / 3), y + h * 1.1 * Math.sin(n * Math.PI / 3)]);
    return "M" + pts.map((p) => p.join(",")).join("L") + "Z";
  }
  return `M${x - h},${y}a${h},${h} 0 1,0 ${s},0a${h},${h} 0 1,0 ${-s},0`;
}

function zoom(factor, cx, cy) {
  const v = S.view;
  const fx = cx === undefined ? 0.5 : cx, fy = cy === undefined ? 0.5 : cy;
  const w = v.w * factor, h = v.h * factor;
  setView({ x: v.x + (v.w - w) * fx, y: v.y + (v.h - h) * fy, w, h });
}

function initMapControls() {
  const map = $("#map");
  map.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = map.getBoundingClientRect();
    zoom(ev.deltaY > 0 ? 1.2 : 1 / 1.2, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
  }, { passive: false });
  let start = null;
  map.addEventListener("pointerdown", (ev) => {
    start = { x: ev.clientX, y: ev.clientY, view: { ...S.view } };
    S.dragged = false;
  });
  window.addEventListener("pointermove", (ev) => {
    if (!start) return;
    const dx = ev.clientX - start.x, dy = ev.clientY - start.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) S.dragged = true;
    if (!S.dragged) return;
    const r = map.getBoundingClientRect();
    const k = Math.max(start.view.w / r.width, start.view.h / r.height);
    setView({ ...start.view, x: start.view.x - dx * k, y: start.view.y - dy * k });
  });
  window.addEventListener("pointerup", () => { start = null; });
  $("#zoom-in").addEventListener("click", () => zoom(1 / 1.5));
  $("#zoom-out").addEventListener("click", () => zoom(1.5));
  $("#zoom-fit").addEventListener("click", fitView);
  $("#group").addEventListener("change", paint);
}

// The tooltip keeps the function that wrote it, so a click that changes the site rewrites it.
function tip(ev, lines, again) {
  S.tipAgain = again || null;
  const box = $("#tooltip");
  box.replaceChildren(...lines.filter((l) => l !== null && l !== undefined && l !== "").map((l) => el("div", {}, l)));
  box.hidden = false;
  // Beside the pointer, on the side where it fits inside the map.
  const r = $("#mapbox").getBoundingClientRect(), w = box.offsetWidth, h = box.offsetHeight;
  const x = ev.clientX - r.left, y = ev.clientY - r.top;
  box.style.left = `${x + 12 + w > r.width ? Math.max(0, x - 12 - w) : x + 12}px`;
  box.style.top = `${y + 12 + h > r.height ? Math.max(0, y - 12 - h) : y + 12}px`;
}

function hideTip() { $("#tooltip").hidden = true; S.tipAgain = null; }

function refreshTip() {
  const box = $("#tooltip");
  if (box.hidden || !S.tipAgain) return;
  box.replaceChildren(...S.tipAgain().map((l) => el("div", {}, l)));
}

function siteTip(s) {
  const lines = [`${s.name || s.id} (${s.id})`, `${t("kind")}: ${word("kind", s.kind)}`, `${t("status")}: ${t(siteStatus(s))}`];
  for (const [type, cny] of Object.entries(s.cost_cny || {})) {
    if (cny !== null && isFinite(cny)) lines.push(`${(S.types.get(type) || {}).label || type}: ${money(cny)}`);
  }
  if (S.plan.has(s.id)) lines.push(`→ ${(S.types.get(S.plan.get(s.id)) || {}).label || S.plan.get(s.id)}`);
  return lines;
}

function demandTip(d) {
  const lines = [`${t("demandPoint")} ${d.i}`];
  for (const g of S.scen.groups) {
    const n = (d.population || {})[g.name] || 0;
    if (n) lines.push(`${g.label || g.name}: ${people(n)} ${t("people")} · ${t(demandStatus(d.i, g.name, n))}`);
  }
  return lines;
}

function coveredSet(covered, group) {
  if (!covered || !covered[group]) return null;
  if (!covered._sets) covered._sets = {};
  if (!covered._sets[group]) covered._sets[group] = new Set(covered[group]);
  return covered._sets[group];
}

function demandStatus(i, group, n) {
  if (!n) return "nobody";
  if (S.compare) {
    const a = coveredSet(S.compare.a.covered_after, group), b = coveredSet(S.compare.b.covered_after, group);
    const inA = !!a && a.has(i), inB = !!b && b.has(i);
    return inA && inB ? "both" : inA ? "only-a" : inB ? "only-b" : "uncovered";
  }
  const shown = S.evald || S.run || S.base;
  const now = coveredSet(shown && shown.covered_after, group);
  if (!now) return "uncovered";
  const ref = S.run || S.base;
  if (S.evald && ref) {
    const was = coveredSet(ref.covered_after, group);
    if (was && now.has(i) && !was.has(i)) return "gained";
    if (was && !now.has(i) && was.has(i)) return "lost";
  }
  return now.has(i) ? "covered" : "uncovered";
}

function siteStatus(s) {
  if (S.plan.has(s.id)) return "selected";
  if (ids($("#forbid").value).includes(s.id) || s.forbidden) return "forbidden";
  if (ids($("#must-open").value).includes(s.id) || s.must_open) return "must-open";
  return "candidate";
}

// Colours every layer from the state: demand by coverage of the chosen group, sites by status
// (or by A/B membership while comparing), reach circles around the plan's sites.
function paint() {
  if (!S.scen) return;
  const group = $("#group").value;
  S.scen.demand.forEach((d, n) => {
    const count = (d.population || {})[group] || 0;
    S.demandNodes[n].setAttribute("class", `demand ${demandStatus(d.i, group, count)}`);
  });
  const cmp = S.compare;
  for (const [id, node] of S.siteNodes) {
    const s = S.sites.get(id);
    const cls = ["site", siteStatus(s)];
    if (s.must_open || ids($("#must-open").value).includes(id)) cls.push("pinned");
    if (S.removed.has(id)) cls.push("removed");
    if (S.added.has(id)) cls.push("added");
    if (cmp) cls.push(cmp.only_a.includes(id) ? "only-a" : cmp.only_b.includes(id) ? "only-b" : cmp.both.includes(id) ? "both" : "faded");
    if (S.highlight === id) cls.push("hl");
    node.setAttribute("class", cls.join(" "));
  }
  // Selected sites on top so a click reaches them before an overlapping candidate.
  for (const id of S.plan.keys()) S.layers.sites.appendChild(S.siteNodes.get(id));
  S.layers.reach.replaceChildren();
  const reachOf = cmp ? [...cmp.only_a, ...cmp.only_b, ...cmp.both].map((id) => [id, null]) : [...S.plan];
  for (const [id, type] of reachOf) {
    const s = S.sites.get(id);
    const k = S.types.get(type) || (cmp && cmp.types && S.types.get(cmp.types[id]));
    if (!s || !k || !k.reach_m) continue;
    const cls = `reach type-${S.scen.types.indexOf(k) % 4}`;
    const along = networkArea(s, k.walk_m || k.reach_m);
    if (along) svg("path", { d: along, class: `${cls} isochrone` }, S.layers.reach);
    else svg("circle", { cx: px(s.x), cy: py(s.y), r: k.reach_m, class: cls }, S.layers.reach);
  }
  drawLegend();
  refreshTip();
}

function drawLegend() {
  const legend = $("#legend");
  legend.replaceChildren();
  const item = (cls, label) => {
    const row = el("span", { class: "item" });
    row.append(el("i", { class: `swatch ${cls}` }), document.createTextNode(label));
    legend.appendChild(row);
  };
  if (!S.compare) for (const k of ["covered", "uncovered", "gained", "lost"]) item(`demand ${k}`, t(k));
  else item("demand uncovered", t("uncovered"));
  if (S.compare) for (const [k, label] of [["only-a", "onlyA"], ["only-b", "onlyB"], ["both", "both"]]) item(`site ${k}`, t(label));
  else for (const k of ["selected", "candidate", "forbidden", "must-open"]) item(`site ${k}`, t(k));
  item("existing", t("existing"));
  if (S.plan.size || S.compare) item(S.scen.network ? "area-network" : "area-circle", t(S.scen.network ? "areaNetwork" : "reach"));
  if (S.scen.boundary) item("boundary", t("boundary"));
  if (S.scen.network) item("network", t("network"));
  S.kinds.forEach((kind, n) => item(`shape-${SHAPES[n % SHAPES.length]}`, word("kind", kind)));
}

// Row ↔ marker link: hovering either lights both.
function setHighlight(id) {
  S.highlight = id;
  for (const [sid, node] of S.siteNodes) node.classList.toggle("hl", sid === id);
  document.querySelectorAll("#sites tr[data-site-id]").forEach((row) => row.classList.toggle("hl", row.dataset.siteId === id));
}


// ---------- service areas along the walking network ----------
// With a network the reach of a site is the streets walkable within its distance, not a circle:
// the page builds a graph from the segments it was sent (joined where their ends meet to 0.1 m),
// enters it at the junction nearest the site, and draws every street part within reach. This is a
// drawing, not the engine's reach (which snaps to the nearest edge and honours one-way streets and
// walk factors); the coverage figures always come from the server.

function networkGraph() {
  if (S.graph !== undefined) return S.graph;
  const net = S.scen.network;
  if (!net || !net.length) return (S.graph = null);
  const index = new Map(), xy = [], adj = [];
  const node = (x, y) => {
    const key = `${Math.round(x * 10)},${Math.round(y * 10)}`;
    let n = index.get(key);
    if (n === undefined) { n = xy.length; index.set(key, n); xy.push([x, y]); adj.push([]); }
    return n;
  };
  for (const [[x1, y1], [x2, y2]] of net) {
    const a = node(x1, y1), b = node(x2, y2), w = Math.hypot(x2 - x1, y2 - y1);
    adj[a].push([b, w]); adj[b].push([a, w]);
  }
  return (S.graph = { xy, adj });
}

// Dijkstra from the junction nearest (x, y), stopping at reach_m; a binary heap keeps it fast on
// tens of thousands of segments.
function walkFrom(graph, x, y, reach) {
  let start = 0, best = Infinity;
  graph.xy.forEach(([nx, ny], n) => { const d = Math.hypot(nx - x, ny - y); if (d < best) { best = d; start = n; } });
  const dist = new Map([[start, best]]), heap = [[best, start]];
  const push = (item) => {
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) { const p = (i - 1) >> 1; if (heap[p][0] <= heap[i][0]) break; [heap[p], heap[i]] = [heap[i], heap[p]]; i = p; }
  };
  const pop = () => {
    const top = heap[0], last = heap.pop();
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1; let m = i;
        if (l < heap.length && heap[l][0] < heap[m][0]) m = l;
        if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]]; i = m;
      }
    }
    return top;
  };
  while (heap.length) {
    const [d, n] = pop();
    if (d > dist.get(n) || d > reach) continue;
    for (const [m, w] of graph.adj[n]) {
      const e = d + w;
      if (e <= reach && e < (dist.has(m) ? dist.get(m) : Infinity)) { dist.set(m, e); push([e, m]); }
    }
  }
  return dist;
}

function networkArea(site, reach) {
  const graph = networkGraph();
  if (!graph || !reach) return null;
  const dist = walkFrom(graph, site.x, site.y, reach);
  const parts = [];
  for (const [n, d] of dist) {
    if (d > reach) continue;
    const [x1, y1] = graph.xy[n];
    for (const [m, w] of graph.adj[n]) {
      const dm = dist.has(m) ? dist.get(m) : Infinity;
      if (dm <= reach && m < n) continue; // a street walked whole: drawn once, from its lower end
      // The street up to where the walk from this end runs out (whole when the other end is reached).
      const f = dm <= reach ? 1 : Math.min(1, (reach - d) / w);
      const [x2, y2] = graph.xy[m];
      parts.push(`M${px(x1)},${py(y1)}L${px(x1 + f * (x2 - x1))},${py(y1 + f * (y2 - y1))}`);
    }
  }
  return parts.length ? parts.join("") : null;
}
