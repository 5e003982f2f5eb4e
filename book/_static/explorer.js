/* The explorer of book/explorer.md: which input pixels each output reads
   (forward mode) and which outputs send gradient to each input pixel
   (backward mode), for one square input, kernel, stride, padding and
   dilation. Plain JavaScript, no library, nothing fetched.

   Coordinates: the padded input has P = n + 2p rows; padded row R is input
   row R - p (rows -p..-1 and n..n+p-1 are padding). Tap (u, v) of the window
   at output (i, j) reads padded pixel (s*i + d*u, s*j + d*v), the same
   arithmetic as convnotes.geometry.window_reads. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const CELL = 28; // side of one pixel, in SVG units
  const GAP = 36; // between the input and the output grids
  const TOP = 20; // room for the grids' titles
  const MAX_PADDED = 40; // larger padded inputs are sized but not drawn
  // [key, input id, what it is called, smallest allowed value]
  const FIELDS = [
    ["n", "explorer-input-size", "the input size n", 1],
    ["k", "explorer-kernel-size", "the kernel size k", 1],
    ["s", "explorer-stride", "the stride s", 1],
    ["p", "explorer-padding", "the padding p", 0],
    ["d", "explorer-dilation", "the dilation d", 1],
  ];
  const WHY = {
    n: "an input needs at least one pixel",
    k: "a kernel needs at least one entry",
    s: "the window must move forward by at least one pixel per step",
    p: "padding adds p rows and columns of zeros on each side",
    d: "dilation is the spacing between kernel taps, at least 1",
  };
  const $ = (id) => document.getElementById(id);
  let geometry = null; // the current settings and what follows from them
  let selected = null; // the cell pointed at: {kind, r, c}
  let cells = {}; // "kind r c" -> {group, label}

  // Read the five numbers; say why there is no output if there is none.
  function readSettings() {
    const g = {};
    for (const [key, id, name, least] of FIELDS) {
      const text = $(id).value.trim();
      const value = Number(text);
      if (text === "" || !Number.isInteger(value))
        return { error: `${name} must be a whole number, not "${text}"` };
      if (value < least)
        return {
          error: `${name} must be at least ${least}, not ${value}: ${WHY[key]}`,
        };
      g[key] = value;
    }
    g.P = g.n + 2 * g.p; // padded size
    g.span = g.d * (g.k - 1) + 1; // pixels one window covers
    // floor((n + 2p - d(k - 1) - 1) / s) + 1 = floor((P - span) / s) + 1
    g.top = g.P - g.span;
    g.m = Math.floor(g.top / g.s) + 1;
    if (g.m < 1)
      g.error =
        `the kernel spans d(k − 1) + 1 = ${g.span} pixels but the padded ` +
        `input n + 2p = ${g.P} is narrower: no window fits`;
    return g;
  }

  function formula(g) {
    const num = (x) => (x < 0 ? `(−${-x})` : `${x}`); // a true minus sign
    return (
      `⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 = ⌊(${g.n} + 2·${g.p} − ` +
      `${g.d}·(${g.k} − 1) − 1)/${g.s}⌋ + 1 = ⌊${num(g.top)}/${g.s}⌋ + 1` +
      ` = ${g.m < 0 ? `−${-g.m}` : g.m}`
    );
  }

  // Along one axis: the (output index i, tap u) pairs that read padded
  // row R, i.e. s*i + d*u = R with 0 <= i < m and 0 <= u < k.
  function readers(g, R) {
    const found = [];
    for (let u = 0; u < g.k; u++) {
      const rest = R - g.d * u;
      if (rest >= 0 && rest % g.s === 0 && rest / g.s < g.m)
        found.push([rest / g.s, u]);
    }
    return found;
  }

  // A pixel's gradient has one term per (output, tap) that reads it.
  const timesRead = (g, r, c) =>
    readers(g, r + g.p).length * readers(g, c + g.p).length;

  function make(tag, attributes, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes))
      node.setAttribute(name, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function addCell(svg, kind, r, c, x, y, classes) {
    const group = make("g", {
      class: `cell ${kind} ${classes}`,
      "data-kind": kind,
      "data-row": r,
      "data-col": c,
    }, svg);
    make("rect", { x, y, width: CELL, height: CELL }, group);
    const label = make("text", { x: x + CELL / 2, y: y + CELL / 2 + 4 }, group);
    cells[`${kind} ${r} ${c}`] = { group, label };
  }

  // Draw the padded input and the output; narrow screens stack them.
  function draw(g) {
    const box = $("explorer");
    box.textContent = "";
    cells = {};
    if (g.error || g.P > MAX_PADDED) return;
    const inW = Math.max(g.P * CELL, 70);
    const outW = Math.max(g.m * CELL, 70);
    const narrow = box.clientWidth < 520;
    const outX = narrow ? 0 : inW + GAP;
    const outY = narrow ? TOP + inW + GAP : TOP;
    const width = narrow ? Math.max(inW, outW) : inW + GAP + outW;
    const height = narrow ? outY + outW : TOP + Math.max(inW, outW);
    const svg = make("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `a ${g.n} × ${g.n} input padded to ${g.P} × ${g.P} ` +
        `and its ${g.m} × ${g.m} output`,
    }, box);
    // up to 2 px per unit; side by side, no taller than most laptop windows
    const scale = narrow ? 2 : Math.min(2, 400 / height);
    svg.style.maxWidth = `${Math.round(scale * width)}px`;
    // diagonal lines for the pixels no window reads
    const hatch = make("pattern", {
      id: "explorer-hatch", width: 6, height: 6,
      patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)",
    }, make("defs", {}, svg));
    make("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch" }, hatch);
    make("text", { x: 0, y: 14, class: "title" }, svg).textContent =
      g.p ? "input, padded" : "input";
    make("text", { x: outX, y: outY - 6, class: "title" }, svg)
      .textContent = "output";
    for (let r = -g.p; r < g.n + g.p; r++)
      for (let c = -g.p; c < g.n + g.p; c++) {
        const x = (c + g.p) * CELL, y = TOP + (r + g.p) * CELL;
        const inside = r >= 0 && r < g.n && c >= 0 && c < g.n;
        if (!inside) addCell(svg, "padding", r, c, x, y, "");
        else
          addCell(svg, "input", r, c, x, y,
            timesRead(g, r, c) ? "" : "unread");
      }
    for (let i = 0; i < g.m; i++)
      for (let j = 0; j < g.m; j++)
        addCell(svg, "output", i, j, outX + j * CELL, outY + i * CELL, "");
    svg.addEventListener("pointerover", (event) => point(event.target));
    svg.addEventListener("click", (event) => point(event.target));
  }

  const mode = () =>
    $("explorer-mode-backward").checked ? "backward" : "forward";

  // The reader points at a cell: in forward mode an output, in backward
  // mode an input pixel (padding has no gradient to send).
  function point(target) {
    const group = target.closest && target.closest("g.cell");
    if (!group) return;
    const kind = group.dataset.kind;
    if (kind !== (mode() === "forward" ? "output" : "input")) return;
    const r = Number(group.dataset.row), c = Number(group.dataset.col);
    if (selected && selected.kind === kind && selected.r === r &&
      selected.c === c) return;
    selected = { kind, r, c };
    highlight();
  }

  function mark(kind, r, c, text) {
    const cell = cells[`${kind} ${r} ${c}`];
    cell.group.classList.add("hit");
    cell.label.textContent = text;
  }

  // Clear the last highlight, then mark what the selected cell touches.
  function highlight() {
    const g = geometry;
    const backward = mode() === "backward";
    for (const [key, cell] of Object.entries(cells)) {
      const [kind, r, c] = key.split(" ");
      cell.group.classList.remove("hit", "selected");
      // backward mode, at rest: how many terms each pixel's gradient has
      cell.label.textContent = backward && kind === "input" ?
        timesRead(g, Number(r), Number(c)) : "";
    }
    const note = $("explorer-note");
    const unread = document.querySelectorAll("#explorer .unread").length;
    note.textContent = unread ?
      `${unread} pixel${unread > 1 ? "s are" : " is"} read by no window ` +
      "(hatched): their gradient is always 0. " :
      "Every pixel is read by at least one window. ";
    if (!selected) {
      note.textContent += backward ?
        "Point at an input pixel: the number in each is how many outputs " +
        "its gradient gathers from." :
        "Point at an output cell to see the pixels it reads.";
      return;
    }
    const { r, c } = selected;
    cells[`${selected.kind} ${r} ${c}`].group.classList.add("selected");
    if (!backward) {
      // output (r, c): tap (u, v) reads padded (s*r + d*u, s*c + d*v)
      for (let u = 0; u < g.k; u++)
        for (let v = 0; v < g.k; v++) {
          const R = g.s * r + g.d * u - g.p, C = g.s * c + g.d * v - g.p;
          const inside = R >= 0 && R < g.n && C >= 0 && C < g.n;
          mark(inside ? "input" : "padding", R, C, `${u},${v}`);
        }
      note.textContent += `Output (${r}, ${c}) reads ${g.k * g.k} ` +
        "pixels; each shows the kernel entry (u, v) that multiplies it.";
      return;
    }
    // input (r, c): every (output, tap) pair whose window reads it
    let terms = 0;
    for (const [i, u] of readers(g, r + g.p))
      for (const [j, v] of readers(g, c + g.p)) {
        mark("output", i, j, `${u},${v}`);
        terms++;
      }
    note.textContent += `The gradient of pixel (${r}, ${c}) ` +
      (terms ? `sums ${terms} term${terms > 1 ? "s" : ""}, ` +
        "∂L/∂y[i, j] · w[u, v]: each highlighted output shows its (u, v)." :
        "is 0: no window reads it.");
  }

  function update() {
    geometry = readSettings();
    const g = geometry;
    const shown = $("explorer-output-size");
    shown.textContent = "";
    if (g.m !== undefined) shown.textContent = `${formula(g)}. `;
    if (g.error) {
      shown.textContent += `No valid output: ${g.error}.`;
      $("explorer-note").textContent = "";
    } else {
      shown.textContent += `The output is ${g.m} × ${g.m}.`;
    }
    if (!g.error && g.P > MAX_PADDED)
      shown.textContent += ` (The drawing stops at ${MAX_PADDED} pixels.)`;
    // keep the selection if it is still on the grid
    if (selected && g.m !== undefined) {
      const size = selected.kind === "output" ? g.m : g.n;
      if (selected.r >= size || selected.c >= size) selected = null;
    }
    draw(g);
    if (!g.error && g.P <= MAX_PADDED) highlight();
  }

  function start() {
    for (const [, id] of FIELDS) $(id).addEventListener("input", update);
    for (const id of ["explorer-mode-forward", "explorer-mode-backward"])
      $(id).addEventListener("change", () => {
        selected = null;
        update();
      });
    // redraw when the layout changes between side by side and stacked
    let wide = null;
    window.addEventListener("resize", () => {
      const now = $("explorer").clientWidth >= 520;
      if (now !== wide) update();
      wide = now;
    });
    update();
  }

  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", start);
  else start();
})();
