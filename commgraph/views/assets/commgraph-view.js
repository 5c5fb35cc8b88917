/* commgraph views: draw a cell–cell communication network with vis-network from the JSON
 * spec written by commgraph.views (see commgraph/views/_data.py for its keys).
 *
 * Plain JS, no network access. Each <script type="application/json" data-commgraph-view=ID>
 * becomes a view drawn into the element with that ID. After each draw the view publishes what
 * vis-network holds:  window.commgraphViews[ID].drawn = {nodes, edges, day, group, filter,
 * expand, total, seq}; on a page with one view also window.commgraphDrawn (same object) and
 * window.network (the vis.Network, as on pyvis pages).
 */
(function () {
  "use strict";

  var views = (window.commgraphViews = window.commgraphViews || {});

  // --- small DOM and number helpers ---------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "class") node.className = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }
  function fmt(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    if (x === 0) return "0";
    var a = Math.abs(x);
    if (a >= 1000) return Math.round(x).toLocaleString("en-US");
    return String(Number(x.toPrecision(3)));
  }
  function floorFmt(x) {  // x rounded down to 3 significant digits: a true "at least"
    if (!isFinite(x) || x <= 0) return fmt(x);
    var k = Math.pow(10, Math.floor(Math.log10(x)) - 2);
    return fmt(Math.floor(x / k + 1e-9) * k);
  }
  function signed(x) { return (x > 0 ? "+" : "") + fmt(x); }
  function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(x < 0.01 ? 2 : 1) + "%"; }
  function darker(hex, f) {
    var n = parseInt(hex.slice(1), 16), k = f === undefined ? 0.7 : f;
    var r = Math.round(((n >> 16) & 255) * k), g = Math.round(((n >> 8) & 255) * k), b = Math.round((n & 255) * k);
    return "#" + ((1 << 24) + (r << 16) + (g << 8) + b).toString(16).slice(1);
  }
  var SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var n = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) n.appendChild(arguments[i]);
    return n;
  }
  function table(head, rows, numeric) {
    var t = el("table", { class: "cg-table" });
    t.appendChild(el("thead", null, el.apply(null, ["tr", null].concat(head.map(function (h, i) {
      return el("th", { class: numeric[i] ? "num" : null, text: h });
    })))));
    var tb = el("tbody");
    rows.forEach(function (r) {
      tb.appendChild(el.apply(null, ["tr", null].concat(r.map(function (v, i) {
        return el("td", { class: numeric[i] ? "num" : null, text: numeric[i] ? (numeric[i] === "signed" ? signed(v) : fmt(v)) : (v === null ? "–" : String(v)) });
      }))));
    });
    t.appendChild(tb);
    return t;
  }

  var LABELS = { from: "sender", to: "receiver", interaction: "ligand^receptor", pathway: "pathway", score: "score",
    pvalue: "p", n_runs: "runs", status: "change", baseline_score: "baseline", delta: "Δ" };

  // --- one view -------------------------------------------------------------------------------
  // A view with a change mode (spec.change: ego and lr with tested changes) draws either the
  // day's scores or the tested change against the baseline; switching builds the view again
  // from the other half of the spec, keeping day, group, filter and cut-offs (``keep``).
  function View(root, spec, standalone, keep) {
    this.root = root;
    this.base = spec;
    this.mode = keep ? keep.mode : (spec.initial.mode || "absolute");
    if (this.mode === "change" && spec.change) {
      spec = Object.assign({}, spec, spec.change, { expandable: false,
        legend: { nodes: spec.change.legend_nodes || spec.legend.nodes, edges: spec.change.legend_edges } });
    }
    this.spec = spec;
    this.id = root.id;
    this.standalone = standalone;
    this.seq = keep ? keep.seq : 0;
    this.drawn = null;
    var col = {};
    spec.row_columns.forEach(function (c, i) { col[c] = i; });
    this.col = col;
    this.nodeInfo = {};
    var self = this;
    spec.nodes.forEach(function (n) { self.nodeInfo[n.id] = n; });
    this.frames = {};
    this.days = {};
    spec.frames.forEach(function (f) {
      self.frames[f.day + "|" + f.group] = f;
      (self.days[f.group] = self.days[f.group] || []).push(f.day);
    });
    this.groups = Object.keys(this.days).sort();
    this.groups.forEach(function (g) { self.days[g].sort(function (a, b) { return a - b; }); });
    this.state = { day: spec.initial.day, group: spec.initial.group, filter: spec.initial.filter || "",
      expand: !!spec.initial.expand, maxEdges: spec.initial.max_edges || 0,
      fdr: spec.initial.fdr === undefined ? 0.05 : spec.initial.fdr, minLfc: spec.initial.min_lfc || 0,
      focus: spec.initial.focus === undefined ? (spec.focus || "") : spec.initial.focus,
      pair: spec.initial.pair || null };
    if (keep) Object.assign(this.state, keep.state, { expand: this.state.expand && keep.state.expand });
    this.scales();
    this.build();
    this.render();
  }

  View.prototype.lineageColor = function (id) {
    var info = this.nodeInfo[id];
    if (info && info.color) return info.color;
    return this.spec.palette.lineage[(info && info.lineage) || "other"] || "#9E9E9E";
  };

  // A timepoint in words: a day study as before ("day 7"); otherwise the study's own text from
  // spec.times ("6 h", "stimulated"). timeNum: the bare value (a day study's number, else its text).
  View.prototype.timeNum = function (d) {
    var t = this.spec.times;
    return t ? (t[String(d)] !== undefined ? t[String(d)] : String(d)) : String(d);
  };
  View.prototype.timeText = function (d) { return this.spec.times ? this.timeNum(d) : "day " + d; };
  View.prototype.timeOn = function (d) {
    if (!this.spec.times) return "on day " + d;
    var u = this.spec.time_unit;
    return (u === "condition" ? "in condition " : u === "week" ? "in " : "at ") + this.timeNum(d);
  };
  View.prototype.timeNoun = function () { return this.spec.time_noun || "day"; };

  View.prototype.frame = function () { return this.frames[this.state.day + "|" + this.state.group]; };

  View.prototype.rowsOf = function (frame, f) {
    var c = this.col;
    if (this.state.pair) {  // the lr view with several pairs: the chosen pair's rows
      var pair = this.state.pair;
      var mine = frame.rows.filter(function (r) { return r[c.interaction] === pair; });
      if (!f) return mine;
      frame = { rows: mine };
    }
    if (!f) return frame.rows;
    var kind = f.slice(0, f.indexOf(":")), value = f.slice(f.indexOf(":") + 1);
    var idx = kind === "pathway" ? c.pathway : c.interaction;
    return frame.rows.filter(function (r) { return r[idx] === value; });
  };

  // Edges of a frame: {id, from, to, value, n, rows, ...}; rows sorted strongest first.
  View.prototype.edgesOf = function (frame, opts) {
    var o = opts || this.state, c = this.col, spec = this.spec;
    var rows = this.rowsOf(frame, o.filter);
    var byPair = {};
    rows.forEach(function (r) { var k = r[c.from] + "\u2192" + r[c.to]; (byPair[k] = byPair[k] || []).push(r); });
    var key = function (r) { return r[c.score] === null ? -Infinity : r[c.score]; };
    Object.keys(byPair).forEach(function (k) {
      byPair[k].sort(function (a, b) { return spec.edge_mode === "diff" ? Math.abs(b[c.delta]) - Math.abs(a[c.delta]) : key(b) - key(a); });
    });
    if (spec.edge_mode === "tested") {
      var fdr = o.fdr === undefined ? this.state.fdr : o.fdr, lfc = o.minLfc === undefined ? this.state.minLfc : o.minLfc;
      var pass = {};
      rows.forEach(function (r) {
        if (r[c.fdr] === null || r[c.fdr] > fdr || Math.abs(r[c.log2fc] || 0) < lfc) return;
        var k = r[c.from] + "\u2192" + r[c.to]; (pass[k] = pass[k] || []).push(r);
      });
      return Object.keys(pass).sort().map(function (k) {
        var rs = pass[k], total = 0, up = 0, down = 0;
        rs.sort(function (a, b) { return a[c.fdr] - b[c.fdr]; });
        rs.forEach(function (r) { total += r[c.delta] || 0; if (r[c.delta] > 0) up++; else if (r[c.delta] < 0) down++; });
        return { id: k, from: rs[0][c.from], to: rs[0][c.to], value: Math.abs(total), delta: total, n: rs.length,
          n_up: up, n_down: down, status: total > 0 ? "up" : total < 0 ? "down" : "same", rows: rs };
      });
    }
    if (o.expand && spec.expandable) {
      return rows.map(function (r) {
        return { id: r[c.from] + "\u2192" + r[c.to] + "|" + r[c.interaction], from: r[c.from], to: r[c.to],
          value: Math.max(0, r[c.score] || 0), n: 1, rows: [r], single: true };
      });
    }
    var given = this.state.pair && frame.edges_by ? frame.edges_by[this.state.pair] : frame.edges;
    if (given && !o.filter) {
      return given.map(function (e) {
        var k = e.from + "\u2192" + e.to;
        return Object.assign({ id: k, rows: byPair[k] || [] }, e);
      });
    }
    return Object.keys(byPair).sort().map(function (k) {
      var rs = byPair[k], total = 0;
      rs.forEach(function (r) { total += r[c.score] || 0; });
      return { id: k, from: rs[0][c.from], to: rs[0][c.to], value: total, n: rs.length, rows: rs };
    });
  };

  // One width and one node-size scale for every frame, so days compare by eye.
  View.prototype.scales = function () {
    var self = this, maxEdge = 0, maxRow = 0, maxFraction = 0, c = this.col, most = 0;
    var spec_expandable = !!this.spec.expandable;
    this.spec.frames.forEach(function (f) {
      var es = self.edgesOf(f, { filter: "", expand: false });
      most = Math.max(most, es.length, spec_expandable ? f.rows.length : 0);
      es.forEach(function (e) { maxEdge = Math.max(maxEdge, Math.abs(e.value || 0)); });
      if (c.score !== undefined) f.rows.forEach(function (r) { maxRow = Math.max(maxRow, r[c.score] || 0); });
      Object.keys(f.nodes).forEach(function (k) { maxFraction = Math.max(maxFraction, f.nodes[k].fraction || 0); });
    });
    this.maxEdge = maxEdge || 1;
    this.maxRow = maxRow || 1;
    this.maxFraction = maxFraction || 1;
    this.mostEdges = most;
  };

  View.prototype.build = function () {
    var self = this, spec = this.spec, root = this.root;
    root.classList.add("cg-view");
    root.textContent = "";
    this.titleEl = el("h2", { class: "cg-title" });
    root.appendChild(el("header", { class: "cg-head" }, this.titleEl,
      el("p", { class: "cg-sub", text: "store " + spec.store + " · " + spec.subtitle }),
      spec.note ? el("p", { class: "cg-note", role: "note", text: spec.note }) : null));

    var controls = el("div", { class: "cg-controls" });
    if (this.base.change) {
      this.modeSel = el("select", { class: "cg-mode", "aria-label": "draw",
        onchange: function () { self.switchMode(self.modeSel.value); } });
      this.modeSel.appendChild(el("option", { value: "change", text: "tested change against the baseline" }));
      this.modeSel.appendChild(el("option", { value: "absolute", text: "scores on the " + this.timeNoun() }));
      this.modeSel.value = this.mode;
      controls.appendChild(el("label", { class: "cg-ctl" }, "draw ", this.modeSel));
    }
    var multiDay = this.groups.some(function (g) { return self.days[g].length > 1; });
    if (multiDay) {
      this.prevBtn = el("button", { type: "button", class: "cg-prev", title: "previous " + this.timeNoun(), text: "◀",
        onclick: function () { self.step(-1); } });
      this.nextBtn = el("button", { type: "button", class: "cg-next", title: "next " + this.timeNoun(), text: "▶",
        onclick: function () { self.step(1); } });
      this.slider = el("input", { type: "range", class: "cg-day-slider", min: 0, step: 1, "aria-label": this.timeNoun(),
        oninput: function () { self.state.day = self.days[self.state.group][+self.slider.value]; self.render(); } });
      this.dayLabel = el("span", { class: "cg-day-label" });
      this.ticks = el("span", { class: "cg-ticks" });
      controls.appendChild(el("label", { class: "cg-ctl" }, this.timeNoun() + " ", this.prevBtn, this.slider, this.nextBtn, this.dayLabel));
      controls.appendChild(this.ticks);
    }
    if (this.groups.length > 1) {
      this.groupSel = el("select", { class: "cg-group", "aria-label": "group",
        onchange: function () { self.setGroup(self.groupSel.value); } });
      this.groups.forEach(function (g) { self.groupSel.appendChild(el("option", { value: g, text: g })); });
      controls.appendChild(el("label", { class: "cg-ctl" }, "group ", this.groupSel));
    }
    if (spec.filters) {
      this.filterSel = el("select", { class: "cg-filter", "aria-label": "filter",
        onchange: function () { self.state.filter = self.filterSel.value; self.render(); } });
      this.filterSel.appendChild(el("option", { value: "", text: "all pathways and pairs" }));
      [["pathway", "pathway"], ["interaction", "ligand–receptor pair"]].forEach(function (kv) {
        var og = el("optgroup", { label: kv[1] });
        spec.filters[kv[0]].forEach(function (v) { og.appendChild(el("option", { value: kv[0] + ":" + v, text: v })); });
        self.filterSel.appendChild(og);
      });
      if (this.state.filter && this.state.filter.indexOf(":") < 0) {  // a bare name from Python
        var name = this.state.filter;
        this.state.filter = (spec.filters.pathway.indexOf(name) >= 0 ? "pathway:" : "interaction:") + name;
      }
      controls.appendChild(el("label", { class: "cg-ctl" }, "show ", this.filterSel));
    }
    if (spec.edge_mode === "tested") {
      var choice = function (cls, label, values, key, text) {
        var sel = el("select", { class: cls, "aria-label": label,
          onchange: function () { self.state[key] = key === "focus" ? sel.value : +sel.value; self.render(); } });
        values.forEach(function (v) { sel.appendChild(el("option", { value: v, text: text(v) })); });
        controls.appendChild(el("label", { class: "cg-ctl" }, label + " ", sel));
        return sel;
      };
      this.fdrSel = choice("cg-fdr", "FDR ≤", spec.choices.fdr, "fdr", function (v) { return String(v); });
      this.lfcSel = choice("cg-lfc", "|log2 FC| ≥", spec.choices.min_lfc, "minLfc", function (v) { return String(v); });
      if (spec.focus_select !== false) this.focusSel = choice("cg-focus", "focus", [""].concat(spec.nodes.map(function (n) { return n.id; }).sort()), "focus",
        function (v) { return v || "(none)"; });
    }
    if (spec.pairs && spec.pairs.length > 1) {
      var listId = this.id + "-pairs";
      var list = el("datalist", { id: listId });
      spec.pairs.forEach(function (p) { list.appendChild(el("option", { value: p })); });
      this.pairBox = el("input", { type: "search", class: "cg-pair", list: listId, "aria-label": "ligand–receptor pair",
        placeholder: "type a ligand or receptor", size: 24,
        onchange: function () { self.choosePair(self.pairBox.value); },
        oninput: function () { if (spec.pairs.indexOf(self.pairBox.value) >= 0) self.choosePair(self.pairBox.value); } });
      controls.appendChild(el("label", { class: "cg-ctl", title: "the " + spec.pairs.length + " pairs most often significant; others: commgraph view lr --interaction NAME" },
        "pair ", this.pairBox, list, el("span", { class: "cg-ticks", text: spec.pairs.length + " pairs" })));
    }
    var capChoices = spec.caps || [50, 100, 200, 500, 1000, 2000];
    if ("max_edges" in spec.initial && this.mostEdges > (spec.caps ? Math.min.apply(null, capChoices) : 100)) {
      this.capSel = el("select", { class: "cg-cap", "aria-label": "edges shown",
        onchange: function () { self.state.maxEdges = +self.capSel.value; self.render(); } });
      var caps = capChoices.filter(function (n) { return n < self.mostEdges; });
      if (this.state.maxEdges && caps.indexOf(this.state.maxEdges) < 0 && this.state.maxEdges < this.mostEdges) caps.push(this.state.maxEdges);
      caps.sort(function (a, b) { return a - b; }).forEach(function (n) { self.capSel.appendChild(el("option", { value: n, text: "the strongest " + n })); });
      this.capSel.appendChild(el("option", { value: 0, text: "all" }));
      controls.appendChild(el("label", { class: "cg-ctl" }, "edges ", this.capSel));
    }
    if (spec.expandable) {
      this.expandBox = el("input", { type: "checkbox", class: "cg-expand",
        onchange: function () { self.state.expand = self.expandBox.checked; self.render(); } });
      controls.appendChild(el("label", { class: "cg-ctl" }, this.expandBox, " one edge per ligand–receptor pair"));
    }
    controls.appendChild(el("button", { type: "button", class: "cg-fit", text: "re-centre", title: "fit every cell type in view",
      onclick: function () { self.fit(); } }));
    this.statusEl = el("span", { class: "cg-status", role: "status" });
    controls.appendChild(this.statusEl);
    root.appendChild(controls);

    this.canvas = el("div", { class: "cg-canvas" });
    this.emptyEl = el("div", { class: "cg-empty" });
    var wrap = el("div", { class: "cg-canvas-wrap" }, this.canvas, this.emptyEl);
    this.legendEl = el("div", { class: "cg-legend" });
    this.detailsEl = el("div", { class: "cg-details" });
    root.appendChild(el("div", { class: "cg-body" }, wrap, el("aside", { class: "cg-side" }, this.legendEl, this.detailsEl)));
    this.buildLegend();
    this.showHint();

    this.nodes = new vis.DataSet();
    this.edges = new vis.DataSet();
    this.network = new vis.Network(this.canvas, { nodes: this.nodes, edges: this.edges }, {
      physics: { enabled: false },
      layout: { improvedLayout: false, randomSeed: 1 },
      interaction: { hover: true, tooltipDelay: 60, dragNodes: false, zoomView: true, dragView: true,
        multiselect: false, hideEdgesOnDrag: false },
      nodes: { shape: "dot", borderWidth: 2, font: { size: 15, face: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        color: "#222", strokeWidth: 4, strokeColor: "#ffffff" } },
      edges: { arrows: { to: { enabled: true, scaleFactor: 0.55 } }, arrowStrikethrough: false,
        smooth: { enabled: true, type: "curvedCW", roundness: 0.15 }, selectionWidth: 2, hoverWidth: 1.5,
        selfReference: { size: 16, renderBehindTheNode: true } },
    });
    this.nearestEdgeTooltips();
    this.network.on("click", function (p) { self.onClick(p); });
    this.network.on("afterDrawing", function () { self.afterDrawing(); });
    window.addEventListener("resize", function () { if (!self.dead) self.fit(); });
    var scale = this.fit();
    this.k = Math.max(1, 0.6 / scale);
    this.fontSize = Math.max(15, 11 / scale);
  };

  // vis-network 9.1 shows the tooltip of the *last drawn* edge within reach of the pointer, while
  // hover and click pick the *nearest*: over a busy middle, hovering MX1+ Mono → Treg popped up
  // "Treg → CD4 Effector T". Let the tooltip take the nearest edge too.
  View.prototype.nearestEdgeTooltips = function () {
    var net = this.network, ih = net.interactionHandler, sh = net.selectionHandler;
    if (!ih || !sh || typeof ih._checkShowPopup !== "function") return;
    var orig = ih._checkShowPopup;
    ih._checkShowPopup = function (pointer) {
      if (sh.getNodeAt(pointer)) return orig.call(this, pointer);
      var nearest = sh.getEdgeAt(pointer), body = net.body;
      if (!nearest) return orig.call(this, pointer);
      if (this.popupObj && this.popupObj.id !== nearest.id) this.popupObj = undefined;
      var all = body.edgeIndices;
      body.edgeIndices = [nearest.id];
      try { return orig.call(this, pointer); } finally { body.edgeIndices = all; }
    };
  };

  View.prototype.buildLegend = function () {
    var L = this.legendEl, spec = this.spec;
    L.textContent = "";
    var section = function (title, items) {
      var box = el("div", { class: "cg-legend-part" }, el("div", { class: "cg-legend-title", text: title }));
      items.forEach(function (it) {
        var s = svg("svg", { width: 34, height: 16, viewBox: "0 0 34 16", class: "cg-swatch", "aria-hidden": "true" });
        if (it.swatch === "dot") s.appendChild(svg("circle", { cx: 17, cy: 8, r: 6.5, fill: it.color, stroke: darker(it.color), "stroke-width": 1.5 }));
        else if (it.swatch === "size") { s.appendChild(svg("circle", { cx: 6, cy: 8, r: 3, fill: "#bbb" })); s.appendChild(svg("circle", { cx: 22, cy: 8, r: 7, fill: "#bbb" })); }
        else if (it.swatch === "dashed-dot") s.appendChild(svg("circle", { cx: 17, cy: 8, r: 6.5, fill: "#eee", stroke: "#777", "stroke-width": 1.5, "stroke-dasharray": "3 2" }));
        else if (it.swatch === "ring") s.appendChild(svg("circle", { cx: 17, cy: 8, r: 6, fill: "#eee", stroke: "#222", "stroke-width": 3 }));
        else if (it.swatch === "faded") s.appendChild(svg("circle", { cx: 17, cy: 8, r: 6.5, fill: "#eeeeee", stroke: "#bbb", "stroke-width": 1.5 }));
        else if (it.swatch === "width") { s.appendChild(svg("line", { x1: 2, y1: 4, x2: 32, y2: 4, stroke: "#888", "stroke-width": 1 })); s.appendChild(svg("line", { x1: 2, y1: 11, x2: 32, y2: 11, stroke: "#888", "stroke-width": 5 })); }
        else {
          s.appendChild(svg("line", { x1: 2, y1: 8, x2: 26, y2: 8, stroke: it.color, "stroke-width": 3, "stroke-dasharray": it.swatch === "dashed" ? "5 3" : "none" }));
          s.appendChild(svg("path", { d: "M25 3 L33 8 L25 13 Z", fill: it.color }));
        }
        box.appendChild(el("div", { class: "cg-legend-item" }, s, el("span", { text: it.label })));
      });
      return box;
    };
    var self = this;
    L.appendChild(section("Cell types", spec.legend.nodes));
    L.appendChild(section("Signaling", spec.legend.edges));
    this.scaleEl = el("div", { class: "cg-legend-scale" });
    L.appendChild(this.scaleEl);
  };

  View.prototype.showHint = function () {
    this.detailsEl.textContent = "";
    this.detailsEl.appendChild(el("p", { class: "cg-hint", text: "Hover an edge or a cell type for a summary; click it to list every ligand–receptor pair here. Scroll to zoom, drag to pan." }));
  };

  View.prototype.fit = function () {
    var xs = this.spec.nodes.map(function (n) { return n.x; }), ys = this.spec.nodes.map(function (n) { return n.y; });
    if (!xs.length) return 1;
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs), minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    var w = this.canvas.clientWidth || 800, h = this.canvas.clientHeight || 600, pad = 85;
    var scale = Math.min(w / (maxX - minX + 2 * pad), h / (maxY - minY + 2 * pad), 1.6);
    this.network.moveTo({ position: { x: (minX + maxX) / 2, y: (minY + maxY) / 2 + 8 }, scale: scale, animation: false });
    return scale;
  };

  View.prototype.setGroup = function (g) {
    var days = this.days[g], d = this.state.day, best = days[0];
    days.forEach(function (x) { if (Math.abs(x - d) < Math.abs(best - d)) best = x; });
    this.state.group = g;
    this.state.day = best;
    this.render();
  };

  View.prototype.switchMode = function (mode) {
    if (mode === this.mode || !this.base.change) return;
    var keep = { mode: mode, seq: this.seq, state: Object.assign({}, this.state) };
    this.dead = true;
    this.network.destroy();
    var v = new View(this.root, this.base, this.standalone, keep);
    views[this.id] = v;
    if (this.standalone) window.network = v.network;
  };

  View.prototype.choosePair = function (name) {
    if (this.spec.pairs.indexOf(name) < 0 || name === this.state.pair) return;
    this.state.pair = name;
    this.render();
    var chart = this.spec.patient_chart && (window.commgraphCharts || {})[this.spec.patient_chart];
    if (chart) chart.view.signal("pair", name).runAsync();  // the per-patient lines follow the pair
  };

  View.prototype.step = function (k) {
    var days = this.days[this.state.group], i = days.indexOf(this.state.day) + k;
    if (i < 0 || i >= days.length) return;
    this.state.day = days[i];
    this.render();
  };

  // World sizes: on a big circle the fitted view is zoomed out, so nodes, widths and labels
  // grow by k (fixed when the view is built) to stay readable.
  View.prototype.nodeSize = function (info) {
    if (!info || info.fraction === null || info.fraction === undefined) return 13 * this.k;
    return (9 + 25 * Math.sqrt(info.fraction / this.maxFraction)) * this.k;
  };

  // Widths: the tested diff scales to the widest edge drawn now; the other views to the widest
  // edge of any day with the current filter (so days compare by eye, and a filtered pair is not
  // drawn at the scale of the unfiltered network).
  View.prototype.widthScale = function (edges) {
    var self = this, st = this.state, m = 0;
    if (this.spec.edge_mode === "tested" || this.spec.edge_mode === "diff") {
      edges.forEach(function (e) { m = Math.max(m, Math.abs(e.value || 0)); });
    } else {
      var key = st.filter + "|" + st.expand + "|" + st.pair;
      if (!(this.scaleCache = this.scaleCache || {})[key]) {
        this.spec.frames.forEach(function (f) {
          self.edgesOf(f, { filter: st.filter, expand: st.expand }).forEach(function (e) { m = Math.max(m, Math.abs(e.value || 0)); });
        });
        this.scaleCache[key] = m || 1;
      }
      m = this.scaleCache[key];
    }
    this.maxShown = m || 1;
    if (this.scaleEl) this.scaleEl.textContent = "widest edge = " + fmt(this.maxShown) +
      (this.spec.edge_mode === "tested" ? " (|summed change|, score units)" : " (summed score)");
  };

  View.prototype.edgeWidth = function (e) {
    if (e.single) return (0.6 + 5.4 * Math.min(1, Math.abs(e.value || 0) / this.maxShown)) * Math.sqrt(this.k);
    return (1 + 11 * Math.min(1, Math.abs(e.value || 0) / this.maxShown)) * Math.sqrt(this.k);
  };

  View.prototype.render = function () {
    var self = this, spec = this.spec, st = this.state;
    if (!this.days[st.group]) st.group = this.groups[0];  // a group without a tested contrast
    var frame = this.frame();
    if (!frame) {  // a day the group lacks: take its nearest day
      this.setGroup(st.group);
      return;
    }
    var title = spec.title.replace("{day}", this.timeNum(st.day)).replace("{group}", st.group)
      .replace("{baseline}", frame.baseline === undefined ? frame.baseline : this.timeNum(frame.baseline))
      .replace("{pair}", st.pair || "");
    var active = [];
    if (spec.edge_mode === "tested") {
      active.push("FDR ≤ " + st.fdr, "|log2 FC| ≥ " + st.minLfc);
      if (st.focus && spec.focus_select !== false) active.push("focus " + st.focus);
    }
    if (st.filter) active.push(st.filter.replace(":", " "));
    if (this.slider) {
      var days = this.days[st.group];
      this.slider.max = days.length - 1;
      this.slider.value = days.indexOf(st.day);
      this.slider.disabled = days.length < 2;
      this.prevBtn.disabled = days.indexOf(st.day) <= 0;
      this.nextBtn.disabled = days.indexOf(st.day) >= days.length - 1;
      this.dayLabel.textContent = this.timeNum(st.day);
      this.ticks.textContent = this.timeNoun() + "s: " + days.map(function (d) { return self.timeNum(d); }).join(" · ");
    }
    if (this.groupSel) this.groupSel.value = st.group;
    if (this.filterSel) this.filterSel.value = st.filter;
    if (this.expandBox) this.expandBox.checked = st.expand;
    if (this.pairBox && document.activeElement !== this.pairBox) this.pairBox.value = st.pair;
    if (this.fdrSel) { this.fdrSel.value = String(st.fdr); this.lfcSel.value = String(st.minLfc); if (this.focusSel) this.focusSel.value = st.focus; }
    if (this.capSel) this.capSel.value = "0";

    var edges = this.edgesOf(frame), available = edges.length;
    if (st.maxEdges && edges.length > st.maxEdges) {
      edges = edges.slice().sort(function (a, b) { return Math.abs(b.value || 0) - Math.abs(a.value || 0) || (a.id < b.id ? -1 : 1); })
        .slice(0, st.maxEdges);
    }
    if (spec.cap_in_title) {  // say what the cut leaves out
      var weakest = edges.reduce(function (m, e) { return Math.min(m, Math.abs(e.value || 0)); }, Infinity);
      active.push(edges.length < available
        ? "the strongest " + edges.length + " of " + available + " edges (total score ≥ " + fmt(weakest) + ")"
        : "all " + available + " edges");
    }
    if (active.length) title += " · " + active.join(", ");
    this.titleEl.textContent = title;
    if (this.standalone) document.title = title;
    var ids;
    if (spec.node_mode === "connected") {
      var seen = {};
      if (frame.nodes[st.focus]) seen[st.focus] = true;
      edges.forEach(function (e) { seen[e.from] = true; seen[e.to] = true; });
      ids = Object.keys(seen);
    } else {
      ids = Object.keys(frame.nodes);
    }
    var touched = {};
    edges.forEach(function (e) { touched[e.from] = true; touched[e.to] = true; });
    this.widthScale(edges);
    this.current = { frame: frame, edges: edges, byId: {} };

    var visNodes = ids.map(function (id) {
      var info = self.nodeInfo[id] || { x: 0, y: 0, lineage: "other" }, fi = frame.nodes[id] || {};
      var colour = self.lineageColor(id), faded = spec.fade_isolated && !touched[id], focus = !!st.focus && id === st.focus;
      return {
        id: id, label: id, x: info.x, y: info.y, fixed: { x: true, y: true }, size: self.nodeSize(fi),
        color: faded ? { background: "#eeeeee", border: "#bbbbbb", highlight: { background: "#e0e0e0", border: "#999" }, hover: { background: "#e0e0e0", border: "#999" } }
          : { background: colour, border: focus ? "#222222" : darker(colour), highlight: { background: colour, border: "#222" }, hover: { background: colour, border: "#222" } },
        borderWidth: focus ? 5 : 2,
        shapeProperties: { borderDashes: fi.fraction === null || fi.fraction === undefined ? [4, 3] : false },
        font: { color: faded ? "#999999" : "#222222", size: (focus ? 1.15 : 1) * self.fontSize, bold: focus ? { color: "#111" } : undefined },
        title: self.nodeTip(id, fi, edges),
      };
    });

    var visEdges = [];
    var pairCount = {}, pairTotal = {};
    edges.forEach(function (e) { var k = e.from + "\u2192" + e.to; pairTotal[k] = (pairTotal[k] || 0) + 1; });
    edges.forEach(function (e) {
      self.current.byId[e.id] = e;
      var k = e.from + "\u2192" + e.to;
      var idx = pairCount[k] = (pairCount[k] || 0) + 1;
      var colour, dashes = false;
      var dim = spec.edge_mode === "tested" && st.focus && e.from !== st.focus && e.to !== st.focus;
      if (spec.edge_mode === "diff" || spec.edge_mode === "tested") {
        colour = dim ? "#c8c8c8" : e.status === "up" || e.status === "gained" ? spec.palette.up : e.status === "same" ? "#999999" : spec.palette.down;
        dashes = e.status === "gained" || e.status === "lost" ? [8, 5] : false;
      } else {
        colour = self.lineageColor(e.from);
      }
      var node = self.nodeInfo[e.from] || { x: 0, y: 0 };
      // vis measures the loop angle with y pointing up; point the loop away from the centre
      var angle = node.x === 0 && node.y === 0 ? Math.PI / 2 : Math.atan2(-node.y, node.x);
      if (Math.sin(angle) < -0.34) angle = Math.cos(angle) >= 0 ? -0.35 : Math.PI + 0.35;  // keep clear of the label below
      var loop = Math.max(14, 0.75 * self.nodeSize(frame.nodes[e.from]));
      visEdges.push({
        id: e.id, from: e.from, to: e.to, width: self.edgeWidth(e), dashes: dashes,
        color: { color: colour, opacity: dim ? 0.45 : 0.8, highlight: darker(colour, 0.8), hover: darker(colour, 0.85), inherit: false },
        smooth: { enabled: true, type: "curvedCW",
          roundness: e.single ? 0.05 + 0.5 * (idx - 1) / Math.max(pairTotal[k] - 1, 1) : 0.15 },
        selfReference: { size: e.single ? loop + 12 * (idx - 1) / Math.max(pairTotal[k] - 1, 1) : loop, angle: angle,
          renderBehindTheNode: true },
        title: self.edgeTip(e),
      });
    });

    var keepN = {}, keepE = {};
    visNodes.forEach(function (n) { keepN[n.id] = true; });
    visEdges.forEach(function (e) { keepE[e.id] = true; });
    this.edges.remove(this.edges.getIds().filter(function (id) { return !keepE[id]; }));
    this.nodes.remove(this.nodes.getIds().filter(function (id) { return !keepN[id]; }));
    this.nodes.update(visNodes);
    this.edges.update(visEdges);

    if (this.capSel) this.capSel.value = st.maxEdges && st.maxEdges < available ? String(st.maxEdges) : "0";
    var total = 0, nInter = 0;
    edges.forEach(function (e) { total += e.value || 0; nInter += e.n || 0; });
    var shown = edges.length < available ? "the strongest " + edges.length + " of " + available : String(edges.length);
    var nUp = 0, nDown = 0, nDim = 0;
    visEdges.forEach(function (v) { if (v.color.color === spec.palette.up) nUp++; else if (v.color.color === spec.palette.down) nDown++; else if (v.color.color === "#c8c8c8") nDim++; });
    var what = spec.edge_mode === "tested" ? shown + " sender → receiver pair" + (edges.length === 1 ? "" : "s") + " with a change passing the cut-offs (" + nInter + (nInter === 1 ? " feature)" : " features)")
      : spec.edge_mode === "diff" ? shown + " changed sender → receiver pairs"
      : shown + (st.expand ? " ligand–receptor edges" : " sender → receiver edges") + " (" + nInter + " interactions)";
    this.statusEl.textContent = this.timeText(st.day) + " · " + st.group + " · " + ids.length + " cell types · " + what;
    this.emptyEl.textContent = edges.length ? "" : spec.edge_mode === "tested" ? "No tested change " +
      (st.filter ? "of " + st.filter.replace(":", " ") + " " : "") + (st.pair ? "of " + st.pair + " " : "") +
      "passes the cut-offs (FDR ≤ " + st.fdr + ", |log2 FC| ≥ " + st.minLfc + ") " + this.timeOn(st.day) + " in group " + st.group + "." : "No " + (st.filter ? st.filter.replace(":", " ") + " " : "") +
      (st.pair ? st.pair + " " : spec.subject ? spec.subject + " " : "") + "signaling passes the thresholds " + this.timeOn(st.day) + " in group " + st.group + ".";
    this.emptyEl.style.display = edges.length ? "none" : "block";
    this.pending = { mode: this.mode, day: st.day, group: st.group, filter: st.filter, expand: st.expand, available: available,
      total: Math.round(total * 1e6) / 1e6, pair: st.pair, fdr: st.fdr, min_lfc: st.minLfc, focus: st.focus, up: nUp, down: nDown,
      dimmed: nDim, title: title, max_width_value: Math.round(this.maxShown * 1e6) / 1e6,
      widths: visEdges.map(function (v) { return [v.id, v.width]; }) };
    if (this.selected && !this.current.byId[this.selected] && !keepN[this.selected]) { this.selected = null; this.showHint(); }
    else if (this.selected) this.showDetails(this.selected);
    this.network.redraw();
  };

  View.prototype.afterDrawing = function () {
    if (!this.pending) return;
    var body = this.network.body;
    var nEdges = body.edgeIndices.filter(function (id) { return body.edges[id] && body.edges[id].connected; }).length;
    var drawn = Object.assign({ nodes: body.nodeIndices.length, edges: nEdges, seq: ++this.seq }, this.pending);
    this.pending = null;
    this.drawn = drawn;
    if (this.standalone) window.commgraphDrawn = drawn;
    this.root.setAttribute("data-drawn", JSON.stringify(drawn));
  };

  // --- tooltips and details -------------------------------------------------------------
  View.prototype.pairRows = function (rows, limit) {
    var c = this.col, diff = this.spec.edge_mode === "diff";
    if (this.spec.edge_mode === "tested") {
      return table(["ligand^receptor", "pathway", "Δ score", "log2 FC", "FDR", "n"], rows.slice(0, limit || rows.length).map(function (r) {
        return [r[c.interaction], r[c.pathway], r[c.delta], r[c.log2fc], r[c.fdr], r[c.n]];
      }), [0, 0, "signed", "signed", 1, 1]);
    }
    var head = diff ? ["ligand^receptor", "pathway", "change", "baseline", "now"] : ["ligand^receptor", "pathway", "score"];
    var body = rows.slice(0, limit || rows.length).map(function (r) {
      return diff ? [r[c.interaction], r[c.pathway], r[c.status], r[c.baseline_score], r[c.score]]
        : [r[c.interaction], r[c.pathway], r[c.score]];
    });
    return table(head, body, diff ? [0, 0, 0, 1, 1] : [0, 0, 1]);
  };

  View.prototype.edgeSummary = function (e) {
    var st = this.state, f = this.current.frame;
    if (this.spec.edge_mode === "tested") {
      return [e.n + " feature" + (e.n === 1 ? "" : "s") + " changed (" + e.n_up + " rose, " + e.n_down + " fell; FDR ≤ " + st.fdr +
        ", |log2 FC| ≥ " + st.minLfc + ")", "summed mean paired change " + signed(e.delta) + " (score units), " + this.timeText(st.day) + " vs " + this.timeText(f.baseline)];
    }
    if (this.spec.edge_mode === "diff") {
      return [this.timeText(st.day) + ": " + e.n + " interactions, total " + fmt(e.score) +
        " · " + this.timeText(f.baseline) + ": " + e.n_baseline + ", total " + fmt(e.baseline),
        "change " + signed(e.delta) + " (" + e.status + ")"];
    }
    if (e.single) return ["score " + fmt(e.value)];
    return [e.n + " significant interaction" + (e.n === 1 ? "" : "s") + " · total score " + fmt(e.value) +
      (this.spec.edge_mode === "rows" ? " (summed over the shown pairs)" : "")];
  };

  View.prototype.pathwaySummary = function (rows) {
    var c = this.col, by = {};
    if (this.spec.edge_mode === "diff" || this.spec.edge_mode === "tested") return null;
    rows.forEach(function (r) { var p = r[c.pathway] || "?"; by[p] = (by[p] || 0) + (r[c.score] || 0); });
    var top = Object.keys(by).sort(function (a, b) { return by[b] - by[a]; }).slice(0, 4);
    return top.length ? "pathways: " + top.map(function (p) { return p + " " + fmt(by[p]); }).join(" · ") : null;
  };

  View.prototype.edgeTip = function (e) {
    var c = this.col;
    var tip = el("div", { class: "cg-tip" }, el("div", { class: "cg-tip-h", text: e.from + " → " + e.to +
      (e.single ? "  (" + e.rows[0][c.interaction] + ")" : "") }));
    this.edgeSummary(e).forEach(function (line) { tip.appendChild(el("div", { text: line })); });
    if (e.rows.length && !e.single) {
      tip.appendChild(el("div", { class: "cg-tip-sub", text: this.spec.edge_mode === "tested" ? "most significant changes" : this.spec.edge_mode === "diff" ? "largest changes" : "strongest pairs" }));
      tip.appendChild(this.pairRows(e.rows, 6));
      if (e.rows.length > 6) tip.appendChild(el("div", { class: "cg-tip-f", text: "… " + (e.rows.length - 6) + " more — click the edge" }));
      var pw = this.pathwaySummary(e.rows);
      if (pw) tip.appendChild(el("div", { text: pw }));
    } else if (e.single) {
      tip.appendChild(el("div", { text: "pathway " + (e.rows[0][c.pathway] || "–") }));
    }
    return tip;
  };

  View.prototype.nodeTip = function (id, fi, edges) {
    var info = this.nodeInfo[id] || {}, diff = this.spec.edge_mode === "diff" || this.spec.edge_mode === "tested";
    var tip = el("div", { class: "cg-tip" }, el("div", { class: "cg-tip-h", text: id + " (" + (info.lineage || "other") + ")" }));
    tip.appendChild(el("div", { text: fi.n_cells === null || fi.n_cells === undefined ? "cells not counted"
      : fi.n_cells.toLocaleString("en-US") + " cells · " + pct(fi.fraction) + " of the counted cells" }));
    if (fi.out !== undefined || fi.out_0 !== undefined) {
      if (diff) {
        tip.appendChild(el("div", { text: "sends " + fmt(fi.out || 0) + " (baseline " + fmt(fi.out_0 || 0) + ")" }));
        tip.appendChild(el("div", { text: "receives " + fmt(fi["in"] || 0) + " (baseline " + fmt(fi.in_0 || 0) + ")" }));
      } else {
        tip.appendChild(el("div", { text: "sends " + fmt(fi.out || 0) + " (" + (fi.n_out || 0) + " interactions) · receives " +
          fmt(fi["in"] || 0) + " (" + (fi.n_in || 0) + ")" }));
      }
    } else {
      var out = 0, inn = 0;
      edges.forEach(function (e) { if (e.from === id) out += e.value || 0; if (e.to === id) inn += e.value || 0; });
      tip.appendChild(el("div", { text: "drawn: sends " + fmt(out) + " · receives " + fmt(inn) }));
    }
    return tip;
  };

  View.prototype.onClick = function (p) {
    if (p.edges.length && !p.nodes.length) this.showDetails(p.edges[0]);
    else if (p.nodes.length) this.showDetails(p.nodes[0]);
    else { this.selected = null; this.showHint(); }
  };

  View.prototype.showDetails = function (id) {
    var self = this, D = this.detailsEl, e = this.current.byId[id];
    this.selected = id;
    D.textContent = "";
    if (e) {
      D.appendChild(el("h3", { text: e.from + " → " + e.to }));
      this.edgeSummary(e).forEach(function (line) { D.appendChild(el("p", { text: line })); });
      if (e.rows.length) D.appendChild(this.pairRows(e.rows));
      return;
    }
    var outs = this.current.edges.filter(function (x) { return x.from === id; }).sort(function (a, b) { return Math.abs(b.value) - Math.abs(a.value); });
    var ins = this.current.edges.filter(function (x) { return x.to === id; }).sort(function (a, b) { return Math.abs(b.value) - Math.abs(a.value); });
    D.appendChild(el("h3", { text: id }));
    var isDiff = this.spec.edge_mode === "diff" || this.spec.edge_mode === "tested";
    var val = isDiff ? "signed" : 1;
    var key = isDiff ? "delta" : "value";
    [["sends to", outs, "to"], ["hears from", ins, "from"]].forEach(function (part) {
      D.appendChild(el("p", { class: "cg-detail-h", text: part[0] + " (" + part[1].length + ")" }));
      if (part[1].length) D.appendChild(table(["cell type", isDiff ? "Δ total" : "total", "n"],
        part[1].map(function (x) { return [x[part[2]], x[key], x.n]; }), [0, val, 1]));
    });
  };

  // --- start ----------------------------------------------------------------------------
  function start() {
    var specs = document.querySelectorAll("script[type='application/json'][data-commgraph-view]");
    specs.forEach(function (s) {
      var root = document.getElementById(s.getAttribute("data-commgraph-view"));
      if (typeof vis === "undefined" || !vis.Network) {
        root.textContent = "vis-network did not load: this page can't draw its network.";
        console.error("commgraph: vis-network is missing");
        return;
      }
      var v = new View(root, JSON.parse(s.textContent), specs.length === 1);
      views[root.id] = v;
      if (specs.length === 1) window.network = v.network;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
