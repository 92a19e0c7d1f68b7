// t4j explore: the page's logic. Plain DOM, SVG and canvas; no libraries, nothing from the network.
"use strict";
const S = { info: null, tokens: [], special: [], layer: 0, heads: new Set(), cache: new Map(), view: null, hover: -1 };
const $ = id => document.getElementById(id);
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
const color = h => COLORS[h % COLORS.length];

// An exported file carries its data (GET /api/export): then nothing is fetched, the views read the embedded JSON.
const STATIC = (() => { const e = document.getElementById("t4j-data"); return e ? JSON.parse(e.textContent) : null; })();

async function api(path, opts) {
  if (STATIC) return staticApi(path);
  const r = await fetch(path, opts);
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}
function staticApi(path) {
  const u = new URL(path, "http://local/"), q = u.searchParams, p = u.pathname, stack = +(q.get("stack") || 0);
  if (p === "/api/info") return STATIC.info;
  if (p === "/api/text" || p === "/api/image") return STATIC.input;
  if (p === "/api/attention") return { heads: STATIC.attention[stack][+q.get("layer")] };
  if (p === "/api/stats") return STATIC.stats[stack];
  if (p === "/api/metrics" && STATIC.metrics) return STATIC.metrics;
  if (p === "/api/patches") {
    const heads = STATIC.attention[0][+q.get("layer")], hs = q.get("heads").split(",").map(Number);
    const cls = STATIC.input.classToken, n = STATIC.input.stacks[0].keys.length, off = cls ? 1 : 0, g = n - off;
    let v = new Array(g).fill(0);
    for (const h of hs) for (let p2 = 0; p2 < g; p2++) {
      if (cls) v[p2] += heads[h][p2 + 1];
      else for (let i = 0; i < n; i++) v[p2] += heads[h][i * n + p2] / n;
    }
    const max = Math.max(...v);
    return { patches: v.map(x => max > 0 ? x / max : 0) };
  }
  throw new Error("not in this exported file: the neuron view and rollout need the running t4j explore");
}

function status(msg) { $("status").textContent = msg || ""; }

async function init() {
  S.info = await api("/api/info");
  $("model").textContent = S.info.description;
  const text = S.info.kind !== "vision";
  $("target-input").hidden = S.info.kind !== "seq2seq";
  $("pair-input").hidden = S.info.kind !== "text" || S.info.causal;
  $("pairfilter").onchange = render;
  $("stack").onchange = () => { S.stack = +$("stack").value; setupStack(); render(); };
  $("text-input").hidden = !text;
  $("image-input").hidden = text;
  document.querySelectorAll(text ? ".vision-only" : ".text-only").forEach(b => b.remove());
  $("layer").onchange = () => { S.layer = +$("layer").value; render(); };
  document.querySelectorAll("nav button").forEach(b => b.onclick = () => show(b.dataset.view));
  $("run").onclick = runText;
  $("file").onchange = runImage;
  $("untrained").onchange = () => text ? runText() : runImage();
  document.querySelectorAll("input[name=imgmode]").forEach(r => r.onchange = render);
  $("fusion").onchange = render; $("discard").onchange = render;
  $("svg-export").onclick = exportSvg; $("png-export").onclick = exportPng;
  if (S.info.run) { $("training-tab").hidden = false; $("run-name").textContent = "run folder " + S.info.run; }
  $("html-export").onclick = () => download("/api/export", "t4j-explore.html");
  if (STATIC) {
    $("input").hidden = true; $("html-export").hidden = true;
    $("model").dataset.exported = "true";
    if (STATIC.image) $("img").src = STATIC.image;
    show(text ? "head" : "image");
    loaded(STATIC.input);
    return;
  }
  show(text ? "head" : "image");
  if (text) runText();
}

/** Layer selector and head toggles, rebuilt when a model's shape is first known. */
function setupControls(layers, heads) {
  S.layers = layers; S.nheads = heads; S.layer = 0; S.heads = new Set();
  $("model").textContent = S.info.description + " — " + layers + " layers × " + heads + " heads";
  const sel = $("layer");
  sel.replaceChildren();
  for (let l = 0; l < layers; l++) sel.add(new Option(String(l), String(l)));
  const hs = $("heads");
  hs.replaceChildren();
  for (let h = 0; h < heads; h++) {
    S.heads.add(h);
    const lab = document.createElement("label");
    lab.textContent = h; lab.dataset.head = h; lab.style.background = color(h); lab.id = "head-" + h;
    lab.onclick = e => { if (e.detail > 1) return; S.heads.has(h) ? S.heads.delete(h) : S.heads.add(h); syncHeads(); render(); };
    lab.ondblclick = () => { S.heads = new Set([h]); syncHeads(); render(); };
    hs.appendChild(lab);
  }
}

function syncHeads() {
  document.querySelectorAll("#heads label").forEach(l => l.classList.toggle("off", !S.heads.has(+l.dataset.head)));
}

function show(view) {
  S.view = view;
  document.querySelectorAll("nav button").forEach(b => b.classList.toggle("active", b.dataset.view === view));
  document.querySelectorAll(".view").forEach(v => v.classList.toggle("active", v.id === "view-" + view));
  render();
}

async function runText() {
  try {
    status("running…");
    const r = await api("/api/text", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: $("text").value, textB: $("text-b").value, target: $("target").value, untrained: $("untrained").checked }) });
    loaded(r);
  } catch (e) { status(e.message); }
}

async function runImage() {
  const f = $("file").files[0];
  if (!f) return;
  try {
    status("running…");
    $("img").src = URL.createObjectURL(f);
    const r = await api("/api/image?untrained=" + $("untrained").checked, { method: "POST", body: f });
    loaded(r);
  } catch (e) { status(e.message); }
}

function loaded(r) {
  S.stacks = r.stacks; S.grid = r.grid; S.cache = new Map(); S.hover = -1;
  if (!(S.stack < S.stacks.length)) S.stack = 0;
  const sel = $("stack");
  sel.replaceChildren();
  S.stacks.forEach((st, i) => sel.add(new Option(st.name, String(i))));
  sel.value = String(S.stack);
  $("stack-label").hidden = S.stacks.length < 2;
  setupStack();
  const strip = $("images");
  strip.replaceChildren();
  for (const [name, url] of Object.entries(r.images || {})) {
    const f = document.createElement("figure"), im = document.createElement("img"), c = document.createElement("figcaption");
    im.src = url; im.alt = name; c.textContent = name;
    f.append(im, c); strip.appendChild(f);
  }
  status(""); document.body.dataset.run = String((+document.body.dataset.run || 0) + 1);
  render();
}

/** The selected stack's tokens (queries left, keys right) and controls. */
function setupStack() {
  const st = S.stacks[S.stack];
  if (st.layers !== S.layers || st.heads !== S.nheads) setupControls(st.layers, st.heads);
  if (S.layer >= st.layers) S.layer = 0;
  S.tokens = st.queries; S.keys = st.keys; S.special = st.special; S.segments = st.segments;
  $("pair-label").hidden = !st.segments.some(x => x === 1);
}

/** One head of a layer of the selected stack: [q * nk + k], fetched once per input (a 512-token head is 262,144 weights). */
async function headData(l, h) {
  const key = S.stack + ":" + l + ":" + h;
  if (!S.cache.has(key)) S.cache.set(key, STATIC ? api("/api/attention?stack=" + S.stack + "&layer=" + l).then(j => j.heads[h])
    : api("/api/attention?stack=" + S.stack + "&layer=" + l + "&head=" + h).then(j => j.heads[0]));
  return S.cache.get(key);
}

async function render() {
  if (S.view === "training") { await renderTraining(); return; }
  if (!S.tokens.length || !S.view) return;
  try {
    if (S.view === "head") await renderHead();
    else if (S.view === "model") await renderModel();
    else if (S.view === "matrix") await renderMatrix(S.layer, firstHead());
    else if (S.view === "stats") await renderStats();
    else if (S.view === "neuron") await renderNeuron();
    else if (S.view === "image") await renderImage();
    document.body.dataset.rendered = S.view + ":" + S.layer + ":" + [...S.heads].join(",") + ":" + document.body.dataset.run + ":" + $("pairfilter").value;
  } catch (e) { status(e.message); }
}
function firstHead() { return S.heads.size ? Math.min(...S.heads) : 0; }

// ------------------------------------------------------------------ head view (BertViz's): query tokens left, keys right
async function renderHead() {
  const hs = [...S.heads].sort((a, b) => a - b), n = S.tokens.length, nk = S.keys.length;
  const heads = {};
  for (const h of hs) heads[h] = await headData(S.layer, h);
  const svg = $("headsvg"), NS = "http://www.w3.org/2000/svg", rowH = 18, xl = 150, xr = 420;
  svg.replaceChildren();
  svg.setAttribute("width", 560); svg.setAttribute("height", Math.max(n, nk) * rowH + 20);
  const y = i => 14 + i * rowH;
  const lines = document.createElementNS(NS, "g");
  svg.appendChild(lines);
  const pf = $("pair-label").hidden ? "all" : $("pairfilter").value, seg = S.segments || [];
  const shown = (i, j) => pf === "all" || (String(seg[i] || 0) + String(seg[j] || 0)) === pf;
  // the lines to draw: weights >= 0.01 (of the hovered token only, while one is hovered); at most MAX_LINES, the strongest
  const MAX_LINES = 20000, cand = [];
  for (const h of hs) {
    const w = heads[h];
    for (let i = S.hover >= 0 ? S.hover : 0; i < (S.hover >= 0 ? S.hover + 1 : n); i++) for (let j = 0; j < nk; j++) {
      const v = w[i * nk + j];
      if (v >= 0.01 && shown(i, j)) cand.push([v, h, i, j]);
    }
  }
  if (cand.length > MAX_LINES) { cand.sort((a, b) => b[0] - a[0]); cand.length = MAX_LINES; }
  status(cand.length === MAX_LINES ? "showing the strongest " + MAX_LINES + " lines; hover a token for all of its lines" : "");
  {
    for (const [v, h, i, j] of cand) {
      const ln = document.createElementNS(NS, "line");
      ln.setAttribute("x1", xl + 6); ln.setAttribute("y1", y(i) - 4); ln.setAttribute("x2", xr - 6); ln.setAttribute("y2", y(j) - 4);
      ln.setAttribute("stroke", color(h)); ln.setAttribute("stroke-opacity", v.toFixed(3)); ln.setAttribute("stroke-width", 2);
      ln.dataset.q = i; ln.dataset.k = j; ln.dataset.head = h; ln.dataset.w = v;
      lines.appendChild(ln);
    }
  }
  for (const [side, x, anchor, labels] of [["q", xl, "end", S.tokens], ["k", xr, "start", S.keys]]) {
    labels.forEach((t, i) => {
      const tx = document.createElementNS(NS, "text");
      tx.setAttribute("x", x); tx.setAttribute("y", y(i)); tx.setAttribute("text-anchor", anchor);
      tx.textContent = t; tx.dataset.i = i; tx.dataset.side = side; tx.classList.add("token", side);
      if (side === "q") {
        tx.onmouseenter = () => hoverToken(i);
        tx.onmouseleave = () => hoverToken(-1);
      }
      svg.appendChild(tx);
    });
  }
  highlight();
}

function hoverToken(i) {
  if (S.hover === i) return;
  S.hover = i;
  renderHead().catch(e => status(e.message));
}
function highlight() {
  document.querySelectorAll("#headsvg text.q").forEach(t => t.classList.toggle("active", +t.dataset.i === S.hover));
}

// ------------------------------------------------------------------ heat maps
function heat(canvas, w, n, m) {
  canvas.width = m; canvas.height = n;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(m, n);
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  for (let k = 0; k < n * m; k++) {
    const v = max > 0 ? w[k] / max : 0, c = Math.round(255 * (1 - v));
    img.data[4 * k] = c; img.data[4 * k + 1] = c; img.data[4 * k + 2] = 255; img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

async function renderModel() {
  const grid = $("grid"), n = S.tokens.length, nk = S.keys.length;
  grid.replaceChildren();
  grid.style.gridTemplateColumns = "40px repeat(" + S.nheads + ", 76px)";
  grid.appendChild(document.createElement("span"));
  for (let h = 0; h < S.nheads; h++) { const s = document.createElement("span"); s.className = "lbl"; s.textContent = "head " + h; grid.appendChild(s); }
  for (let l = 0; l < S.layers; l++) {
    const lbl = document.createElement("span"); lbl.className = "lbl"; lbl.textContent = "layer " + l; grid.appendChild(lbl);
    const t = STATIC ? { heads: (await api("/api/attention?stack=" + S.stack + "&layer=" + l)).heads, rows: n, cols: nk }
      : await api("/api/thumbs?stack=" + S.stack + "&layer=" + l + "&size=64");
    for (let h = 0; h < S.nheads; h++) {
      const c = document.createElement("canvas");
      c.id = "thumb-" + l + "-" + h; c.title = "layer " + l + ", head " + h;
      heat(c, t.heads[h], t.rows, t.cols);
      c.onclick = () => { S.layer = l; $("layer").value = String(l); S.heads = new Set([h]); syncHeads(); show("matrix"); };
      grid.appendChild(c);
    }
  }
}

async function renderMatrix(l, h) {
  const w = await headData(l, h), n = S.tokens.length, nk = S.keys.length, c = $("matrix");
  heat(c, w, n, nk);
  const px = Math.max(4, Math.min(24, Math.floor(640 / Math.max(n, nk))));
  c.style.width = nk * px + "px"; c.style.height = n * px + "px";
  $("matrix-title").textContent = "layer " + l + ", head " + h + " — rows: queries, columns: keys" +
    (n <= 40 ? " — " + S.tokens.join(" ") : "");
  c.dataset.layer = l; c.dataset.head = h;
}

async function renderStats() {
  const st = await api("/api/stats?stack=" + S.stack), t = $("stats");
  t.replaceChildren();
  const head = t.insertRow();
  for (const s of ["layer", "head", "entropy", "mean distance", "self", "special"]) { const th = document.createElement("th"); th.textContent = s; head.appendChild(th); }
  st.layers.forEach((hs, l) => hs.forEach((s, h) => {
    const r = t.insertRow();
    const pct = x => x === undefined ? "–" : (100 * x).toFixed(1) + "%";
    for (const v of [l, h, s.entropy.toFixed(3), s.meanDistance === undefined ? "–" : s.meanDistance.toFixed(2), pct(s.self), pct(s.special)])
      r.insertCell().textContent = v;
  }));
}

// ------------------------------------------------------------------ Vision Transformers: class-token attention over the patches
async function renderImage() {
  const g = S.grid, c = $("overlay");
  if (!g) return;
  let v;
  if (document.querySelector("input[name=imgmode]:checked").value === "rollout") {
    v = (await api("/api/rollout?stack=" + S.stack + "&fusion=" + $("fusion").value + "&discard=" + $("discard").value)).rollout;
  } else {
    if (!S.heads.size) return;
    v = (await api("/api/patches?stack=" + S.stack + "&layer=" + S.layer + "&heads=" + [...S.heads].join(","))).patches;
  }
  c.width = g; c.height = g;
  const ctx = c.getContext("2d"), img = ctx.createImageData(g, g);
  for (let p = 0; p < g * g; p++) { img.data[4 * p] = 255; img.data[4 * p + 1] = 40; img.data[4 * p + 2] = 0; img.data[4 * p + 3] = Math.round(200 * v[p]); }
  ctx.putImageData(img, 0, 0);
  c.dataset.sum = v.reduce((a, b) => a + b, 0).toFixed(4);
}

// ------------------------------------------------------------------ neuron view: what makes one query attend where it does
async function renderNeuron() {
  const h = firstHead(), list = $("neuron-tokens");
  list.replaceChildren();
  S.tokens.forEach((t, i) => {
    const s = document.createElement("span");
    s.textContent = t; s.className = "ntok" + (i === S.query ? " active" : ""); s.dataset.i = i;
    s.onmouseenter = () => { S.query = i; drawNeuron(); };
    list.appendChild(s);
  });
  if (S.query === undefined || S.query >= S.tokens.length) S.query = 0;
  await drawNeuron();
}

async function drawNeuron() {
  const h = firstHead(), i = S.query;
  document.querySelectorAll("#neuron-tokens span").forEach(s => s.classList.toggle("active", +s.dataset.i === i));
  const r = await api("/api/neuron?stack=" + S.stack + "&layer=" + S.layer + "&head=" + h + "&query=" + i);
  const t = $("neuron"), e = r.q.length;
  t.replaceChildren();
  const cells = (row, vals) => {
    let m = 0;
    for (const x of vals) m = Math.max(m, Math.abs(x));
    for (const x of vals) {
      const c = row.insertCell(); c.className = "cell";
      const a = m > 0 ? Math.abs(x) / m : 0;
      c.style.background = x >= 0 ? "rgba(31,119,180," + a.toFixed(3) + ")" : "rgba(214,39,40," + a.toFixed(3) + ")";
      c.title = x.toFixed(4);
    }
  };
  const hr = t.insertRow();
  for (const s of ["token", "query q", "key k", "q × k (elementwise)", "q·k/√" + e, "softmax"]) { const th = document.createElement("th"); th.textContent = s; hr.appendChild(th); }
  r.keys.forEach((k, j) => {
    const row = t.insertRow();
    row.dataset.key = j;
    row.insertCell().textContent = S.keys[j];
    const qc = row.insertCell(), qt = document.createElement("table"); cells(qt.insertRow(), j === 0 ? r.q : []); qc.appendChild(qt);
    const kc = row.insertCell(), kt = document.createElement("table"); cells(kt.insertRow(), k); kc.appendChild(kt);
    const pc = row.insertCell(), pt = document.createElement("table"); cells(pt.insertRow(), r.products[j]); pc.appendChild(pt);
    row.insertCell().textContent = r.dots[j].toFixed(3);
    const w = row.insertCell(); w.textContent = (100 * r.weights[j]).toFixed(1) + "%"; w.className = "weight";
  });
  $("neuron-title").textContent = "layer " + S.layer + ", head " + h + ": query \"" + S.tokens[i] + "\" against every key";
  t.dataset.query = i;
}

// ------------------------------------------------------------------ training curves of a run folder
async function renderTraining() {
  const m = await api("/api/metrics");
  const step = m.steps, ep = m.epochs;
  const stepsPerEpoch = ep.length ? ep[0][1] / ep[0][0] : 1;
  chart($("chart-loss"), "loss", [
    { name: "train (steps)", color: "#9ab", pts: step.filter(r => r[2] !== null).map(r => [r[0], r[2]]) },
    { name: "train (epochs)", color: "#1f77b4", pts: ep.filter(r => r[2] !== null).map(r => [r[1], r[2]]) },
    { name: "val", color: "#d62728", pts: ep.filter(r => r[4] !== null).map(r => [r[1], r[4]]) }]);
  chart($("chart-acc"), "accuracy", [
    { name: "train", color: "#1f77b4", pts: ep.filter(r => r[3] !== null).map(r => [r[1], r[3]]) },
    { name: "val", color: "#d62728", pts: ep.filter(r => r[5] !== null).map(r => [r[1], r[5]]) }]);
  chart($("chart-lr"), "learning rate", [{ name: "lr", color: "#2ca02c", pts: step.filter(r => r[1] !== null).map(r => [r[0], r[1]]) }]);
  document.body.dataset.rendered = "training:" + step.length + ":" + ep.length;
  clearTimeout(S.refresh);
  S.refresh = setTimeout(() => { if (S.view === "training") renderTraining().catch(e => status(e.message)); }, 5000);
}

/** A line chart of series [{name, color, pts: [[x, y]]}] in an SVG, x = step. */
function chart(svg, title, series) {
  const NS = "http://www.w3.org/2000/svg", W = 420, H = 240, L = 48, R = 10, T = 22, B = 28;
  svg.replaceChildren();
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  const all = series.flatMap(s => s.pts);
  const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; svg.appendChild(e); return e; };
  el("text", { x: L, y: 14 }, title + (all.length ? "" : " (no rows yet)"));
  if (!all.length) return;
  const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || 1, y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = x => L + (W - L - R) * (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)), sy = y => H - B - (H - T - B) * (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0));
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" });
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" });
  el("text", { x: 2, y: T + 8 }, fmt(y1));
  el("text", { x: 2, y: H - B }, fmt(y0));
  el("text", { x: L, y: H - 8 }, "step " + x0);
  el("text", { x: W - R - 60, y: H - 8 }, "step " + x1);
  series.forEach((s, i) => {
    if (!s.pts.length) return;
    el("polyline", { points: s.pts.map(p => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" "), stroke: s.color, "data-series": s.name });
    if (s.pts.length < 60) s.pts.forEach(p => el("circle", { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: s.color }));
    el("text", { x: W - R - 110, y: T + 12 + 13 * i }, s.name).style.fill = s.color;
  });
}
function fmt(v) { return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(1); }

// ------------------------------------------------------------------ export
function download(url, name) { const a = document.createElement("a"); a.href = url; a.download = name; a.click(); }
function exportSvg() {
  const s = new XMLSerializer().serializeToString($("headsvg"));
  download(URL.createObjectURL(new Blob([s], { type: "image/svg+xml" })), "head-view-layer" + S.layer + ".svg");
}
function exportPng() { download($("matrix").toDataURL("image/png"), "attention-layer" + S.layer + "-head" + firstHead() + ".png"); }

// deferred in the served page; inlined in <head> in an exported file: wait for the body there
const start = () => init().catch(e => status(e.message));
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
