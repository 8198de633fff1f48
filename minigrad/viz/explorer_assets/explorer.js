// minigrad gradient-flow explorer: draws the JSON document embedded in the page.
// Every string of the data is inserted with textContent or setAttribute (never as markup),
// and the data is read with JSON.parse (never evaluated). The layout is Graphviz's, made in
// Python; a step only re-colours boxes and re-sizes arrows.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("minigrad-data").textContent);
  // JSON has no infinity: the data writes an infinite number (the RMS of a gradient that is
  // not finite) as the string "inf"; these series hold numbers or null only.
  function numbers(list) {
    return list.map(function (v) { return v === "inf" ? Infinity : v === "-inf" ? -Infinity : v; });
  }
  data.panels.forEach(function (spec) {
    spec.boxes.forEach(function (box) {
      ["rms", "norm", "mean", "std", "saturated"].forEach(function (key) { box[key] = numbers(box[key]); });
    });
    spec.arrows.forEach(function (arrow) { arrow.norm = numbers(arrow.norm); });
    spec.layers.rms = spec.layers.rms.map(numbers);
    spec.updates.ratio = spec.updates.ratio.map(numbers);
  });
  var SVG = "http://www.w3.org/2000/svg";
  var LEVELS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  var NO_GRAD_FILL = "#f2f2f2", PLAIN_FILL = "#ffffff";
  var VANISHING = "#1f3f9a", EXPLODING = "#b2001f";

  function svg(tag, attributes, parent) {
    var element = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      element.setAttribute(name, String(attributes[name]));
    });
    if (parent) parent.appendChild(element);
    return element;
  }
  function html(tag, className, text, parent) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== null && text !== undefined) element.textContent = String(text);
    if (parent) parent.appendChild(element);
    return element;
  }

  // -- numbers and colours (as minigrad.viz.style: number, LogScale) ----------------------
  function number(x) {
    if (x === null || x === undefined) return "n/a";
    if (x === 0) return "0";
    if (!isFinite(x)) return x > 0 ? "inf" : (x < 0 ? "-inf" : "nan");
    var exponent = Math.floor(Math.log10(Math.abs(x)));
    var text;
    if (exponent < -4 || exponent >= 3) {
      var parts = x.toExponential(2).split("e");
      var mantissa = parts[0].replace(/\.?0+$/, "");
      var power = parseInt(parts[1], 10);
      text = mantissa + "e" + (power < 0 ? "-" : "+") + (Math.abs(power) < 10 ? "0" : "") + Math.abs(power);
    } else {
      text = String(parseFloat(x.toPrecision(3)));
    }
    return text;
  }
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }
  function mix(first, second, t) {
    var a = rgb(first), b = rgb(second);
    return "#" + a.map(function (x, i) {
      var v = Math.round(x + (b[i] - x) * t);
      return (v < 16 ? "0" : "") + v.toString(16);
    }).join("");
  }
  function position(scale, magnitude) {
    if (!(magnitude > 0)) return 0;
    if (!isFinite(magnitude)) return 1;
    var t = (Math.log10(magnitude) - scale.low) / (scale.high - scale.low);
    return Math.min(1, Math.max(0, t));
  }
  function colour(magnitude) {
    var palette = data.scale.palette;
    var t = position(data.scale, magnitude) * (palette.length - 1);
    var i = Math.min(Math.floor(t), palette.length - 2);
    return mix(palette[i], palette[i + 1], t - i);
  }
  function boxFill(box, rms) {
    if (rms === null || rms === undefined) return box.kind === "constant" ? NO_GRAD_FILL : PLAIN_FILL;
    return colour(rms);
  }
  function arrowWidth(norm) {
    var widest = data.scale.widest;
    if (norm === null || norm === undefined) return 1;
    if (!isFinite(norm) || !(widest > 0)) return norm > 0 ? 6 : 0.5;
    return 0.5 + 5.5 * Math.sqrt(Math.min(1, norm / widest));
  }
  function bar(parent, cells, caption) {
    var wrap = html("span", null, null, parent);
    html("span", null, caption + " ", wrap);
    var strip = html("span", "bar", null, wrap);
    cells.forEach(function (cell) {
      var span = html("span", null, cell[1], strip);
      span.style.backgroundColor = cell[0];
    });
    return strip;
  }

  // -- page header ---------------------------------------------------------------------------
  document.title = data.title;
  document.getElementById("title").textContent = data.title;
  var notes = document.getElementById("notes");
  data.notes.forEach(function (note) { html("li", null, note, notes); });
  var legend = document.getElementById("legend");
  var gradBar = bar(legend, data.scale.bar, "box colour: gradient RMS (log scale)");
  var none = html("span", null, "no grad", gradBar);
  none.style.backgroundColor = NO_GRAD_FILL;
  none.style.padding = "0 4px";
  html("span", null, "arrow width: gradient norm sent back along it; dashed arrow: no " +
    "gradient; blue dashed border: vanishing (RMS < " + number(data.scale.vanishing) +
    "); red border: exploding (RMS > " + number(data.scale.exploding) + ")", legend);

  // One slider for all panels: position k is training step data.timeline[k]; each panel
  // shows its latest record at or before it (spec.at[k]), so panels recorded at other
  // steps (another `every`) are still compared at the same moment.
  var maxSteps = data.timeline.length;
  var slider = document.getElementById("step");
  slider.max = String(Math.max(0, maxSteps - 1));
  var stepLabel = document.getElementById("step-label");
  var info = document.getElementById("info");
  var pinned = null;
  var panels = [];
  var current = 0;

  // -- one panel -------------------------------------------------------------------------------
  function Panel(spec, index) {
    var self = this;
    this.spec = spec;
    this.index = index;
    var container = html("div", "panel", null, document.getElementById("panels"));
    container.setAttribute("data-panel", String(index));
    if (spec.label) html("h2", null, spec.label, container);
    if (spec.note) html("p", "note", spec.note, container);
    this.svg = svg("svg", { viewBox: "0 0 " + spec.width + " " + spec.height }, container);
    var root = svg("g", { "class": "graph" }, this.svg);
    // Closed modules lie above the arrows: an arrow into a closed module ends at its edge.
    var clusterLayer = svg("g", {}, root), arrowLayer = svg("g", {}, root);
    var moduleLayer = svg("g", {}, root), boxLayer = svg("g", {}, root);
    this.collapsed = spec.clusters.map(function () { return false; });
    var parentClusters = {};
    spec.clusters.forEach(function (c) { parentClusters[c.parent] = true; });

    this.clusterViews = spec.clusters.map(function (cluster, c) {
      var r = cluster.rect;
      var depth = 0;
      for (var p = cluster.parent; p >= 0; p = spec.clusters[p].parent) depth += 1;
      var group = svg("g", { "class": "cluster", "data-cluster": c }, clusterLayer);
      svg("rect", { x: r[0], y: r[1], width: r[2], height: r[3], rx: 6, fill: depth % 2 ? "#f4f4f4" : "#fbfbfb",
        stroke: "#9a9a9a" }, group);
      var label = svg("text", { x: r[0] + r[2] - 6, y: r[1] + 14, "text-anchor": "end" }, group);
      label.textContent = cluster.label;
      svg("title", {}, group).textContent = cluster.label + " — click to close";
      group.addEventListener("click", function (event) { event.stopPropagation(); self.toggle(c); });
      // The closed form: one box over the cluster's area, coloured by the module's output.
      var box = svg("g", { "class": "box module hidden", "data-cluster": c }, moduleLayer);
      var rect = svg("rect", { x: r[0] + 2, y: r[1] + 2, width: Math.max(0, r[2] - 4),
        height: Math.max(0, r[3] - 4), rx: 2, stroke: "#555", "stroke-width": 1.5 }, box);
      svg("rect", { x: r[0] + 5, y: r[1] + 5, width: Math.max(0, r[2] - 4), height: Math.max(0, r[3] - 4),
        fill: "none", stroke: "#999" }, box);
      var title = svg("text", { x: r[0] + r[2] / 2, y: r[1] + r[3] / 2 - 2, "text-anchor": "middle",
        "class": "title" }, box);
      title.textContent = cluster.label;
      var sub = svg("text", { x: r[0] + r[2] / 2, y: r[1] + r[3] / 2 + 11, "text-anchor": "middle" }, box);
      sub.textContent = cluster.size + " boxes · click to open";
      box.addEventListener("click", function (event) { event.stopPropagation(); self.toggle(c); });
      box.addEventListener("mouseenter", function () {
        if (cluster.output >= 0) show(self, cluster.output, cluster.label, false);
      });
      // Start closed: the innermost modules (layers), never the outermost (the model).
      if (spec.start_collapsed && !parentClusters[c] && cluster.parent >= 0) self.collapsed[c] = true;
      return { group: group, box: box, rect: rect, depth: depth };
    });

    this.arrowViews = spec.arrows.map(function (arrow) {
      var group = svg("g", { "class": "edge" }, arrowLayer);
      var path = svg("path", { d: arrow.path, "class": "arrow" + (arrow.grad ? "" : " no-grad") }, group);
      var head = svg("polygon", { points: arrow.head, "class": "head" + (arrow.grad ? "" : " no-grad") }, group);
      var title = svg("title", {}, group);
      return { group: group, path: path, head: head, title: title };
    });

    this.boxViews = spec.boxes.map(function (box, b) {
      var r = box.rect;
      var group = svg("g", { "class": "box", "data-box": b, "data-id": box.id }, boxLayer);
      var corner = box.kind === "parameter" || box.kind === "module" ? 0 : 5;
      var rect = svg("rect", { x: r[0], y: r[1], width: r[2], height: r[3], rx: corner,
        stroke: box.kind === "constant" ? "#888888" : "#000000",
        "stroke-width": box.root ? 2.5 : 1 }, group);
      if (box.kind === "constant") rect.setAttribute("stroke-dasharray", "4 2");
      var lines = box.lines.concat([""]);
      var texts = lines.map(function (line, i) {
        var text = svg("text", { x: r[0] + r[2] / 2, y: r[1] + (i + 1) * r[3] / (lines.length + 1) + 3.5,
          "text-anchor": "middle", "class": i === 0 ? "title" : "" }, group);
        text.textContent = line;
        return text;
      });
      group.addEventListener("mouseenter", function () { show(self, b, null, false); });
      group.addEventListener("click", function (event) { event.stopPropagation(); show(self, b, null, true); });
      return { group: group, rect: rect, gradLine: texts[texts.length - 1] };
    });

    if (spec.more) {
      var r = spec.more.rect;
      var more = svg("g", { "class": "more" }, boxLayer);
      svg("rect", { x: r[0], y: r[1], width: r[2], height: r[3], fill: "#fff7d6", stroke: "#000" }, more);
      var text = svg("text", { x: r[0] + r[2] / 2, y: r[1] + r[3] / 2 + 3, "text-anchor": "middle" }, more);
      text.textContent = "… " + spec.more.count + " more boxes (max_nodes reached)";
    }

    // Which clusters enclose each box, innermost first.
    this.chains = spec.boxes.map(function (box) {
      var chain = [];
      for (var c = box.cluster; c >= 0; c = spec.clusters[c].parent) chain.push(c);
      return chain;
    });
    this.refresh();
  }

  // Pan and zoom (svg-pan-zoom), once every panel is in the page and has its final width.
  Panel.prototype.startPanZoom = function () {
    if (!window.svgPanZoom) return;
    var panZoom = this.panZoom = window.svgPanZoom(this.svg, { zoomEnabled: true,
      controlIconsEnabled: true, fit: true, center: true, minZoom: 0.05, maxZoom: 400,
      dblClickZoomEnabled: false });
    // A tall, narrow graph (a deep network) would fit as a thin strip: fill the panel's
    // width instead (at most 100 times closer) and start at the top, where the input is.
    var sizes = panZoom.getSizes();
    var shown = sizes.viewBox.width * sizes.realZoom;
    var widen = Math.min(0.95 * sizes.width / Math.max(shown, 1), 100);
    if (widen > 1.5) {
      panZoom.zoomBy(widen);
      sizes = panZoom.getSizes();
      panZoom.pan({ x: (sizes.width - sizes.viewBox.width * sizes.realZoom) / 2, y: 8 });
    }
  };

  // The outermost closed cluster enclosing box b (-1: none, the box is visible).
  Panel.prototype.closedAround = function (b) {
    var chain = this.chains[b], found = -1;
    for (var i = 0; i < chain.length; i++) if (this.collapsed[chain[i]]) found = chain[i];
    return found;
  };
  Panel.prototype.toggle = function (c) {
    this.collapsed[c] = !this.collapsed[c];
    this.refresh();
  };
  Panel.prototype.refresh = function () {
    var self = this, spec = this.spec;
    spec.clusters.forEach(function (cluster, c) {
      var hiddenAbove = false;
      for (var p = cluster.parent; p >= 0; p = spec.clusters[p].parent) if (self.collapsed[p]) hiddenAbove = true;
      var view = self.clusterViews[c];
      view.group.classList.toggle("hidden", hiddenAbove || self.collapsed[c]);
      view.box.classList.toggle("hidden", hiddenAbove || !self.collapsed[c]);
    });
    var closed = spec.boxes.map(function (box, b) { return self.closedAround(b); });
    spec.boxes.forEach(function (box, b) {
      self.boxViews[b].group.classList.toggle("hidden", closed[b] >= 0);
    });
    spec.arrows.forEach(function (arrow, k) {
      var inside = arrow.source >= 0 && closed[arrow.source] >= 0 && closed[arrow.source] === closed[arrow.target];
      self.arrowViews[k].group.classList.toggle("hidden", inside);
    });
    this.setStep(current);
  };
  Panel.prototype.stepIndex = function (k) { return this.spec.at[Math.min(k, this.spec.at.length - 1)]; };
  // The first slider position that shows the panel's record i (a click on its strip).
  Panel.prototype.position = function (i) {
    var at = this.spec.at;
    for (var k = 0; k < at.length; k++) if (at[k] >= i) return k;
    return at.length - 1;
  };
  Panel.prototype.setStep = function (k) {
    var self = this, spec = this.spec, i = this.stepIndex(k);
    spec.boxes.forEach(function (box, b) {
      var view = self.boxViews[b], rms = box.rms[i];
      view.rect.setAttribute("fill", boxFill(box, rms));
      view.gradLine.textContent = rms === null ? (box.mean[i] === null ? "" : "value " + number(box.mean[i]) + " ± " + number(box.std[i]))
        : "grad rms " + number(rms);
      var health = rms === null ? "" : (rms > data.scale.exploding ? "exploding" : (rms < data.scale.vanishing ? "vanishing" : ""));
      view.rect.setAttribute("stroke", health === "exploding" ? EXPLODING : health === "vanishing" ? VANISHING
        : box.kind === "constant" ? "#888888" : "#000000");
      view.rect.setAttribute("stroke-width", health ? 3 : box.root ? 2.5 : 1);
      if (health === "vanishing") view.rect.setAttribute("stroke-dasharray", "5 3");
      else if (box.kind !== "constant") view.rect.removeAttribute("stroke-dasharray");
    });
    spec.clusters.forEach(function (cluster, c) {
      var rms = cluster.output >= 0 ? spec.boxes[cluster.output].rms[i] : null;
      self.clusterViews[c].rect.setAttribute("fill", rms === null ? PLAIN_FILL : colour(rms));
    });
    spec.arrows.forEach(function (arrow, k) {
      if (!arrow.grad) return;
      var norm = arrow.norm[i], view = self.arrowViews[k];
      view.path.setAttribute("stroke-width", arrowWidth(norm).toFixed(2));
      view.title.textContent = "gradient norm " + number(norm);
    });
  };
  Panel.prototype.visibleBoxes = function () {
    return this.svg.querySelectorAll("g.box:not(.hidden)").length;
  };

  // -- the info panel --------------------------------------------------------------------------
  function histogram(parent, entry, caption) {
    html("div", null, caption, parent);
    if (!entry) { html("div", "hint", "(none)", parent); return; }
    var width = 260, height = 48, heights = entry[2];
    var chart = svg("svg", { width: width, height: height + 14, "class": "chart" }, parent);
    var step = width / heights.length;
    for (var i = 0; i < heights.length; i++) {
      var h = LEVELS.indexOf(heights.charAt(i)) / (LEVELS.length - 1) * height;
      svg("rect", { x: i * step, y: height - h, width: Math.max(1, step - 1), height: h, fill: "#6b8fc7" }, chart);
    }
    var low = svg("text", { x: 0, y: height + 12, "font-size": 10 }, chart);
    low.textContent = number(entry[0]);
    var high = svg("text", { x: width, y: height + 12, "font-size": 10, "text-anchor": "end" }, chart);
    high.textContent = number(entry[1]);
  }
  function sparkline(parent, values, at) {
    html("div", null, "gradient RMS over the recorded steps (log scale)", parent);
    var width = 260, height = 50;
    var logs = values.map(function (v) { return v > 0 && isFinite(v) ? Math.log10(v) : null; });
    var known = logs.filter(function (v) { return v !== null; });
    if (!known.length && values.indexOf(Infinity) < 0) { html("div", "hint", "(no gradient)", parent); return; }
    var low = known.length ? Math.min.apply(null, known) : 0, high = known.length ? Math.max.apply(null, known) : 0;
    if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
    values.forEach(function (v, i) { if (v === Infinity) logs[i] = high; });  // not finite: the top
    var chart = svg("svg", { width: width, height: height + 14, "class": "chart" }, parent);
    var x = function (i) { return values.length > 1 ? i / (values.length - 1) * (width - 6) + 3 : width / 2; };
    var y = function (v) { return 3 + (high - v) / (high - low) * (height - 6); };
    var points = [];
    logs.forEach(function (v, i) { if (v !== null) points.push(x(i).toFixed(1) + "," + y(v).toFixed(1)); });
    svg("polyline", { points: points.join(" "), fill: "none", stroke: "#333", "stroke-width": 1.2 }, chart);
    if (logs[at] !== null && logs[at] !== undefined) {
      svg("circle", { cx: x(at), cy: y(logs[at]), r: 3, fill: "#d73027" }, chart);
    }
    var caption = svg("text", { x: 0, y: height + 12, "font-size": 10 }, chart);
    caption.textContent = "1e" + low.toFixed(1) + " … 1e" + high.toFixed(1);
  }
  function show(panel, b, heading, pin) {
    if (pin) pinned = { panel: panel, box: b, heading: heading };
    else if (pinned && !(pinned.panel === panel && pinned.box === b)) return;
    var box = panel.spec.boxes[b], i = panel.stepIndex(current);
    while (info.firstChild) info.removeChild(info.firstChild);
    html("h3", null, heading || box.lines[0], info);
    var table = html("table", null, null, info);
    function row(name, value) {
      var tr = html("tr", null, null, table);
      html("td", null, name, tr);
      html("td", null, value, tr);
    }
    if (panel.spec.label) row("panel", panel.spec.label);
    row("box", box.id);
    row("op", box.op || box.kind);
    if (box.name) row("name", box.name);
    row("shape", "(" + box.shape.join(", ") + (box.shape.length === 1 ? ",)" : ")"));  // as Python
    row("dtype", box.dtype);
    row("created at", box.where || "not recorded (run the forward pass under mg.detect_anomaly() to record it)");
    if (box.nodes > 1) row("nodes", String(box.nodes));
    row("step", String(panel.spec.steps[i]));
    row("grad RMS", number(box.rms[i]));
    row("grad norm", number(box.norm[i]));
    row("value", number(box.mean[i]) + " ± " + number(box.std[i]));
    if (box.saturated[i] !== null) row("saturated", (100 * box.saturated[i]).toFixed(1) + "%");
    histogram(info, box.value_hist[i], "value histogram");
    histogram(info, box.grad_hist[i], "gradient histogram");
    sparkline(info, box.rms, i);
    if (pin) html("p", "hint", "(kept: click another box to change)", info);
  }

  // -- the per-layer strips ----------------------------------------------------------------------
  function heatmap(parent, caption, names, rows, paint, panel) {
    var strip = html("div", null, null, parent);
    html("h3", null, caption, strip);
    if (!names.length) { html("div", "hint", "(none)", strip); return null; }
    var wrap = html("div", "heat", null, strip);
    var labels = html("div", "names", null, wrap);
    var rowHeight = 12;
    names.forEach(function (name) {
      var label = html("div", null, name, labels);
      label.style.height = rowHeight + "px";
      label.style.lineHeight = rowHeight + "px";
    });
    var canvas = html("canvas", null, null, wrap);
    var columns = panel.spec.steps.length;
    canvas.width = Math.max(600, Math.max(columns, 1) * 6);
    canvas.height = names.length * rowHeight;
    canvas.style.height = canvas.height + "px";
    function draw() {
      var context = canvas.getContext("2d");
      var cell = canvas.width / Math.max(columns, 1);
      rows.forEach(function (values, r) {
        values.forEach(function (value, s) {
          context.fillStyle = paint(value);
          context.fillRect(s * cell, r * rowHeight, Math.ceil(cell), rowHeight);
        });
      });
      context.strokeStyle = "#000";
      context.lineWidth = 2;
      context.strokeRect(panel.stepIndex(current) * cell + 1, 1, Math.max(2, cell - 2), canvas.height - 2);
    }
    canvas.addEventListener("click", function (event) {
      var box = canvas.getBoundingClientRect();
      setStep(panel.position(Math.floor((event.clientX - box.left) / box.width * columns)));
    });
    draw();
    return draw;
  }
  var stripPainters = [];
  function buildStrips() {
    var section = document.getElementById("strips");
    var updateScale = { low: data.update_scale.low, high: data.update_scale.high };
    panels.forEach(function (panel) {
      var spec = panel.spec;
      var column = html("div", "strip", null, section);
      if (spec.label) html("h2", null, spec.label, column);
      stripPainters.push(heatmap(column, "per-layer gradient RMS (layers × steps, colour as the boxes)",
        spec.layers.names, spec.layers.rms, function (v) { return v === null ? NO_GRAD_FILL : colour(v); }, panel));
      stripPainters.push(heatmap(column, "update:data ratio per parameter (std(update) / std(data); about 1e-3 is healthy)",
        spec.updates.names, spec.updates.ratio, function (v) {
          if (v === null) return NO_GRAD_FILL;
          var palette = data.scale.palette;
          var t = position(updateScale, v) * (palette.length - 1);
          var i = Math.min(Math.floor(t), palette.length - 2);
          return mix(palette[i], palette[i + 1], t - i);
        }, panel));
    });
    bar(legend, data.update_scale.bar, "update:data strip");
  }

  // -- steps --------------------------------------------------------------------------------------
  function setStep(k) {
    current = Math.max(0, Math.min(maxSteps - 1, k));
    slider.value = String(current);
    stepLabel.textContent = "step " + data.timeline[current] + " (" + (current + 1) + " of " + maxSteps + ") — " + panels.map(function (panel) {
      var step = panel.spec.steps[panel.stepIndex(current)];
      return (panel.spec.label ? panel.spec.label + ": " : "") + "step " + step;
    }).join(", ");
    panels.forEach(function (panel) { panel.setStep(current); });
    stripPainters.forEach(function (paint) { if (paint) paint(); });
    if (pinned) show(pinned.panel, pinned.box, pinned.heading, true);
  }
  slider.addEventListener("input", function () { setStep(parseInt(slider.value, 10)); });
  var timer = null;
  var play = document.getElementById("play");
  function stop() { clearInterval(timer); timer = null; play.textContent = "▶ play"; }
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (current >= maxSteps - 1) setStep(0);
    play.textContent = "❚❚ pause";
    timer = setInterval(function () {
      if (current >= maxSteps - 1) { stop(); return; }
      setStep(current + 1);
    }, 200);
  });
  if (maxSteps <= 1) { play.disabled = true; slider.disabled = true; }

  data.panels.forEach(function (spec, index) { panels.push(new Panel(spec, index)); });
  panels.forEach(function (panel) { panel.startPanZoom(); });
  buildStrips();
  setStep(0);
  // For tests and the curious: the page's state, read-only use.
  window.minigradExplorer = { panels: panels, setStep: setStep, data: data };
})();
