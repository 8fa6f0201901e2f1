// The course site's live figures: the notebooks' widgets, run in the page with ONNX Runtime Web.
//
// `python -m lecturekit site` turns each widget output into a `.lk-live` element holding the widget's
// static picture and a JSON description (lecturekit/site/figures.py: the widget's settings and data,
// the model files exported from the shipped checkpoints, the labels in the page's language). This
// module builds the figure from plain HTML controls (range inputs, buttons, selects: keyboard and touch
// work as for any form), runs the model in the page, and draws on canvases one canvas pixel per sprite
// pixel (scaled by CSS), computing what the kernel's widget computes for the same inputs.
// Each element gets `lkFigure` (the figure object) and `data-state` ("loading", "ready", "failed") for tests.

const BASE = new URL(".", import.meta.url);
let ortModule = null;
const sessions = new Map();

function runtime() {
  if (!ortModule) {
    ortModule = import(new URL("ort/ort.wasm.bundle.min.mjs", BASE).href).then((ort) => {
      ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a plain web space lacks
      ort.env.logLevel = "error";
      return ort;
    });
  }
  return ortModule;
}

async function session(file) {
  if (!sessions.has(file)) {
    sessions.set(
      file,
      runtime().then((ort) => ort.InferenceSession.create(new URL(file, BASE).href, { executionProviders: ["wasm"] })),
    );
  }
  return sessions.get(file);
}

// ---------------------------------------------------------------------------------------------- helpers
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "html") el.innerHTML = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

function decimals(step) {
  const text = String(step);
  return text.includes(".") ? text.split(".")[1].length : 0;
}

// A range input with its label and read-out; `onchange(value)` runs on every move (keyboard, mouse, touch).
function rangeControl({ label, min, max, step, value, cls, wide, digits, onchange }) {
  const input = h("input", { type: "range", min, max, step, value, class: wide ? "lk-wide" : null, "aria-label": label });
  const shown = digits ?? Math.max(2, decimals(step));
  const out = h("output", {}, Number(value).toFixed(shown));
  input.addEventListener("input", () => {
    out.textContent = Number(input.value).toFixed(shown);
    onchange(Number(input.value));
  });
  const wrapper = h("label", { class: cls }, h("span", {}, label), input, out);
  wrapper.input = input;
  wrapper.set = (v) => {
    input.value = v; // the handle goes to the nearest step; the value read out (and used) stays v
    out.textContent = Number(v).toFixed(shown);
  };
  return wrapper;
}

function select(label, options, value, cls, onchange) {
  const el = h("select", { "aria-label": label });
  for (const [text, v] of options) el.append(h("option", { value: String(v) }, text));
  el.value = String(value);
  el.addEventListener("change", () => onchange(el.value));
  return h("label", { class: cls }, h("span", {}, label), el);
}

function button(text, title, cls, onclick) {
  return h("button", { type: "button", title, class: cls, onclick }, text);
}

// Python's round(x, 2): a tie (x * 100 exactly halfway) goes to the even neighbour
function round2(x) {
  const y = x * 100;
  if (Number.isInteger(2 * y) && !Number.isInteger(y)) {
    const down = Math.floor(y);
    return (down % 2 === 0 ? down : down + 1) / 100;
  }
  return Number(x.toFixed(2));
}

// float32 arithmetic as torch does it
const f32 = Math.fround;

function linspace(start, end, steps) {
  // torch.linspace on the CPU in float32: the first half counts up from start, the second down from end
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = f32(f32(f32(end) - f32(start)) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < half ? f32(f32(start) + f32(step * i)) : f32(f32(end) - f32(step * (steps - i - 1)));
  }
  return out;
}

// RGB sprites (n, H, W, 3) tiled with `pad` white pixels between (lecturekit.widgets.grid_rgb), one
// canvas pixel per sprite pixel; the canvas is shown `scale` times larger, without smoothing.
function drawGrid(canvas, rgb, n, height, width, columns, pad, scale) {
  const rows = Math.max(1, Math.ceil(n / columns));
  const gw = columns * (width + pad) - pad;
  const gh = rows * (height + pad) - pad;
  if (canvas.width !== gw || canvas.height !== gh) {
    canvas.width = gw;
    canvas.height = gh;
  }
  canvas.style.width = `${gw * scale}px`; // the height follows (CSS: a narrow screen shrinks wide pictures)
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const image = ctx.createImageData(gw, gh);
  image.data.fill(255);
  for (let i = 0; i < n; i++) {
    const r0 = Math.floor(i / columns) * (height + pad);
    const c0 = (i % columns) * (width + pad);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const src = ((i * height + y) * width + x) * 3;
        const dst = ((r0 + y) * gw + c0 + x) * 4;
        image.data[dst] = rgb[src];
        image.data[dst + 1] = rgb[src + 1];
        image.data[dst + 2] = rgb[src + 2];
      }
    }
  }
  ctx.putImageData(image, 0, 0);
}

function canvas(label) {
  return h("canvas", { role: "img", "aria-label": label, width: 1, height: 1 });
}

// The picture a canvas shows, as plain RGB bytes (tests compare it with the kernel's).
function canvasRGB(el) {
  const data = el.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, el.width, el.height).data;
  const rgb = new Array((data.length / 4) * 3);
  for (let i = 0, j = 0; i < data.length; i += 4) {
    rgb[j++] = data[i];
    rgb[j++] = data[i + 1];
    rgb[j++] = data[i + 2];
  }
  return { width: el.width, height: el.height, rgb };
}

// Run at most one model call at a time; while one runs, only the latest request waits (a dragged slider
// never queues a backlog of stale pictures).
function latestOnly(work) {
  let running = null;
  let pending = null;
  const loop = async () => {
    while (pending) {
      const args = pending;
      pending = null;
      await work(...args);
    }
    running = null;
  };
  const request = (...args) => {
    pending = args;
    if (!running) running = loop();
    return running;
  };
  request.idle = () => running || Promise.resolve();
  return request;
}

// Counter-based uniform numbers in [0, 1): the same (key, index) always gives the same number, so a
// test can draw them again in Python (tests/site/site_reference.py).
function mix32(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function uniform(key, index) {
  return mix32((mix32((key + 0x9e3779b9) >>> 0) ^ index) >>> 0) / 4294967296;
}

// softmax(logits / T) as lecturekit.models.pixelrnn.temperature_probabilities, then the colour whose
// cumulative probability first exceeds u
function drawIndex(logits, offset, k, temperature, u) {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, logits[offset + j] / temperature);
  let total = 0;
  const weights = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    weights[j] = Math.exp(logits[offset + j] / temperature - max);
    total += weights[j];
  }
  let cumulative = 0;
  let last = 0;
  for (let j = 0; j < k; j++) {
    if (weights[j] > 0) last = j;
    cumulative += weights[j] / total;
    if (u < cumulative) return j;
  }
  return last;
}

function argmax(values, offset, k) {
  let best = 0;
  for (let j = 1; j < k; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

// ---------------------------------------------------------------------------------------------- figures
class Figure {
  constructor(root, spec) {
    this.root = root;
    this.spec = spec;
    this.t = spec.labels;
    this.timings = [];
    this.ui = h("div", { class: "lk-live-ui" });
    this.badge = h("div", { class: "lk-badge" }, this.t.loading);
    root.append(this.ui);
    this.ui.append(this.badge);
  }

  ready() {
    this.badge.textContent = this.t.live;
    this.root.classList.add("lk-running");
    this.root.dataset.state = "ready";
  }
}

// notebook 04: ten sliders, one per code dimension, and the sprite the VAE decodes from them
class LatentSliders extends Figure {
  async start() {
    const s = this.spec;
    this.decoder = await session(s.files.decoder);
    this.code = Float32Array.from(s.code);
    this.picture = canvas("decoded sprite");
    this.status = h("div", { class: "lk-status" });
    this.sliders = Array.from({ length: s.dim }, (_, i) =>
      rangeControl({
        label: `z[${i}]`,
        min: -s.range,
        max: s.range,
        step: s.step,
        value: s.code[i],
        cls: `lk-slider-${i}`,
        onchange: (v) => {
          this.code[i] = v;
          this.redraw();
        },
      }),
    );
    const buttons = [
      button(this.t.random, this.t.random_tip, "lk-random", () => this.randomize()),
      button(this.t.reset, this.t.reset_tip, "lk-reset", () => this.setCode(new Array(s.dim).fill(0))),
    ];
    const rows = [
      h("div", { class: "lk-row" }, h("div", { class: "lk-col" }, this.sliders), h("div", {}, this.picture, this.status)),
      h("div", { class: "lk-row" }, buttons),
    ];
    if (s.sprite_codes.length) rows.push(await this.spritePicker());
    this.ui.append(...rows);
    this.redraw = latestOnly(() => this.decode());
    this.seed = 1;
    await this.redraw();
    this.ready();
  }

  async spritePicker() {
    const s = this.spec;
    const strip = await loadImage(`data:image/png;base64,${s.sprites_png}`);
    const preview = canvas("sprite");
    const show = (i) => {
      preview.width = 20;
      preview.height = 20;
      preview.style.width = preview.style.height = `${20 * Math.max(1, Math.floor(s.scale / 2))}px`;
      const ctx = preview.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(strip, i * 20, 0, 20, 20, 0, 0, 20, 20);
    };
    const options = s.sprite_codes.map((_, i) => [`sprite ${i}`, i]);
    this.picked = 0;
    const picker = select(this.t.sprite, options, 0, "lk-sprite-pick", (v) => {
      this.picked = Number(v);
      show(this.picked);
    });
    show(0);
    const encode = button(this.t.encode, this.t.encode_tip, "lk-encode", () => this.encodeSprite());
    return h("div", { class: "lk-row" }, encode, picker, preview);
  }

  async decode() {
    const started = performance.now();
    const ort = await runtime();
    const result = await this.decoder.run({ codes: new ort.Tensor("float32", Float32Array.from(this.code), [1, this.spec.dim]) });
    drawGrid(this.picture, result.rgb.data, 1, 20, 20, 1, 0, this.spec.scale);
    const ms = performance.now() - started;
    this.timings.push(ms);
    this.status.innerHTML = format(this.t.update, { ms: ms.toFixed(1) });
  }

  setCode(code) {
    // as LatentSliders.set_code: clipped to the sliders' range, rounded to 2 decimals (Python's round)
    code.forEach((v, i) => {
      const value = round2(Math.min(this.spec.range, Math.max(-this.spec.range, v)));
      this.code[i] = value;
      this.sliders[i].set(value);
    });
    return this.redraw();
  }

  randomize() {
    const code = [];
    for (let i = 0; i < this.spec.dim; i += 2) {
      const u1 = Math.max(uniform(this.seed, i), 1e-12);
      const u2 = uniform(this.seed, i + 1);
      const r = Math.sqrt(-2 * Math.log(u1));
      code.push(r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2));
    }
    this.seed += 1;
    return this.setCode(code.slice(0, this.spec.dim));
  }

  encodeSprite(i) {
    if (i !== undefined) this.picked = i;
    return this.setCode(this.spec.sprite_codes[this.picked]);
  }

  picture_rgb() {
    return canvasRGB(this.picture);
  }
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
}

// notebook 04: a steps x steps grid, two chosen dimensions across and down, the others at zero or at a
// sprite's code (lecturekit.models.vae.latent_grid)
class LatentGrid extends Figure {
  async start() {
    const s = this.spec;
    this.decoder = await session(s.files.decoder);
    this.dims = [...s.dims];
    this.base = s.base;
    this.span = s.span;
    this.picture = canvas("latent grid");
    this.message = h("div", { class: "lk-note" });
    const dimOptions = Array.from({ length: s.dim }, (_, i) => [`z[${i}]`, i]);
    const baseOptions = [[this.t.zeros, -1], ...s.sprite_codes.map((_, i) => [format(this.t.code_of_sprite, { i }), i])];
    const [lo, hi, step] = s.span_range;
    this.controls = {
      x: select(this.t.across, dimOptions, s.dims[0], "lk-grid-x", (v) => this.change({ x: Number(v) })),
      y: select(this.t.down, dimOptions, s.dims[1], "lk-grid-y", (v) => this.change({ y: Number(v) })),
      base: select(this.t.others_at, baseOptions, s.base, "lk-grid-base", (v) => this.change({ base: Number(v) })),
      span: rangeControl({ label: this.t.span, min: lo, max: hi, step, value: s.span, cls: "lk-grid-span", onchange: (v) => this.change({ span: v }) }),
    };
    this.ui.append(
      h("div", { class: "lk-row" }, this.controls.x, this.controls.y),
      h("div", { class: "lk-row" }, this.controls.base, this.controls.span),
      this.message,
      this.picture,
    );
    this.redraw = latestOnly(() => this.decode());
    await this.redraw();
    this.ready();
  }

  change({ x, y, base, span }) {
    if (x !== undefined) this.dims[0] = x;
    if (y !== undefined) this.dims[1] = y;
    if (base !== undefined) this.base = base;
    if (span !== undefined) this.span = span;
    if (this.dims[0] === this.dims[1]) {
      this.message.innerHTML = "<b>Choose two different dimensions.</b>";
      return Promise.resolve();
    }
    this.message.textContent = "";
    return this.redraw();
  }

  codes() {
    const s = this.spec;
    const n = s.steps;
    const values = linspace(-this.span, this.span, n);
    const base = this.base < 0 ? new Array(s.dim).fill(0) : s.sprite_codes[this.base];
    const codes = new Float32Array(n * n * s.dim);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const row = (r * n + c) * s.dim;
        for (let d = 0; d < s.dim; d++) codes[row + d] = base[d];
        codes[row + this.dims[1]] = values[r];
        codes[row + this.dims[0]] = values[c];
      }
    }
    return codes;
  }

  async decode() {
    const started = performance.now();
    const ort = await runtime();
    const n = this.spec.steps;
    const result = await this.decoder.run({ codes: new ort.Tensor("float32", this.codes(), [n * n, this.spec.dim]) });
    drawGrid(this.picture, result.rgb.data, n * n, 20, 20, n, 1, this.spec.scale);
    this.timings.push(performance.now() - started);
  }

  picture_rgb() {
    return canvasRGB(this.picture);
  }
}

// notebook 03: sprites drawn pixel by pixel by the PixelRNN, argmax or sampling at a temperature
class Sampler extends Figure {
  async start() {
    const s = this.spec;
    this.step = await session(s.files.step);
    this.k = s.palette.length;
    this.palette = s.palette;
    this.batch = 0;
    this.mode = s.mode;
    this.temperature = s.temperature;
    this.hidden = null;
    this.picture = canvas("sprites");
    this.status = h("div", { class: "lk-status" });
    const [lo, hi, step] = s.temperature_range;
    this.tempControl = rangeControl({
      label: this.t.temperature, min: lo, max: hi, step, value: s.temperature, cls: "lk-sampler-temperature",
      onchange: (v) => {
        this.temperature = v;
        this.redraw();
      },
    });
    const name = `lk-mode-${Math.random().toString(36).slice(2)}`;
    const modes = [[this.t.sample, "sample"], ["argmax", "argmax"]].map(([text, value]) => {
      const input = h("input", { type: "radio", name, value, checked: value === this.mode });
      input.addEventListener("change", () => {
        this.mode = value;
        this.tempControl.input.disabled = value === "argmax";
        this.redraw();
      });
      return h("label", {}, input, text);
    });
    this.tempControl.input.disabled = this.mode === "argmax";
    const draw = button(this.t.draw, null, "lk-sampler-draw", () => {
      this.batch += 1;
      this.redraw();
    });
    this.ui.append(
      h("div", { class: "lk-row lk-sampler-mode", role: "radiogroup", "aria-label": this.t.pick }, h("span", {}, this.t.pick), modes),
      h("div", { class: "lk-row" }, this.tempControl, draw),
      this.picture,
      this.status,
    );
    this.generation = 0;
    const drawing = latestOnly((generation) => this.sample(generation));
    // a new request stops the drawing under way at its next pixel (the slider need not wait 400 steps)
    this.redraw = () => drawing(++this.generation);
    this.redraw.idle = drawing.idle;
    await this.redraw();
    this.ready();
  }

  tokens(canvasIdx, t) {
    // lecturekit.models.pixelrnn.PixelRNN._step_tokens: the previous pixel (and with see_above, the three above)
    const { n, slots, width } = this.spec;
    const start = this.k;
    const pad = this.k + 1;
    const out = new BigInt64Array(n * slots);
    const [row, col] = [Math.floor(t / width), t % width];
    for (let i = 0; i < n; i++) {
      out[i * slots] = BigInt(t > 0 ? canvasIdx[i * this.pixels + t - 1] : start);
      for (let s = 1; s < slots; s++) {
        const dx = s - 2;
        const ok = row > 0 && col + dx >= 0 && col + dx < width;
        out[i * slots + s] = BigInt(ok ? canvasIdx[i * this.pixels + t - width + dx] : pad);
      }
    }
    return out;
  }

  async sample(generation) {
    const s = this.spec;
    const ort = await runtime();
    const started = performance.now();
    const { n, height, width, slots } = s;
    this.pixels = height * width;
    const greedy = this.mode === "argmax" || this.temperature === 0;
    const key = s.seed + this.batch;
    const idx = new Uint8Array(n * this.pixels);
    let hState = null;
    let cState = null;
    for (let t = 0; t < this.pixels; t++) {
      const feeds = {
        tokens: new ort.Tensor("int64", this.tokens(idx, t), [n, slots]),
        t: new ort.Tensor("int64", BigInt64Array.from([BigInt(t)]), [1]),
        h: hState ?? new ort.Tensor("float32", new Float32Array(n * s.hidden), [n, s.hidden]),
        c: cState ?? new ort.Tensor("float32", new Float32Array(n * s.hidden), [n, s.hidden]),
      };
      const out = await this.step.run(feeds);
      if (generation !== this.generation) return; // superseded: the newer request draws next
      hState = out.h_out;
      cState = out.c_out;
      const logits = out.logits.data;
      for (let i = 0; i < n; i++) {
        idx[i * this.pixels + t] = greedy
          ? argmax(logits, i * this.k, this.k)
          : drawIndex(logits, i * this.k, this.k, this.temperature, uniform(key, i * this.pixels + t));
      }
      if (t % width === width - 1) this.show(idx);
    }
    const seconds = (performance.now() - started) / 1000;
    this.sprites = idx;
    this.seconds = seconds;
    this.timings.push(seconds * 1000);
    const distinct = new Set(Array.from({ length: n }, (_, i) => idx.subarray(i * this.pixels, (i + 1) * this.pixels).join(","))).size;
    const how = greedy ? "argmax" : format(this.t.sampling_at, { t: this.temperature.toFixed(2) });
    this.status.textContent = format(this.t.batch_status, { batch: this.batch + 1, how, distinct, n, seconds: seconds.toFixed(2) });
  }

  show(idx) {
    const s = this.spec;
    const rgb = new Uint8Array(idx.length * 3);
    for (let p = 0; p < idx.length; p++) {
      const colour = this.palette[idx[p]];
      rgb[p * 3] = colour[0];
      rgb[p * 3 + 1] = colour[1];
      rgb[p * 3 + 2] = colour[2];
    }
    drawGrid(this.picture, rgb, s.n, s.height, s.width, s.columns, 1, s.scale);
  }

  picture_rgb() {
    return canvasRGB(this.picture);
  }
}

// notebook 05: the GAN's sprite at a point of the path from code A to code B, and the whole path
class GanPath extends Figure {
  async start() {
    const s = this.spec;
    this.model = await session(s.files.path);
    this.zA = Float32Array.from(s.z_a);
    this.zB = Float32Array.from(s.z_b);
    this.spare = 0;
    this.position = s.position;
    this.snap = s.snap;
    this.spherical = s.spherical;
    this.sprite = canvas("sprite");
    this.strip = canvas("path");
    this.slider = rangeControl({
      label: this.t.a_to_b, min: 0, max: 1, step: 1 / (s.steps - 1), value: s.position, cls: "lk-gan-slider", digits: 2,
      onchange: (v) => {
        this.position = v;
        this.redrawSprite();
      },
    });
    const box = (label, value, cls, key) => {
      const input = h("input", { type: "checkbox", checked: value });
      input.addEventListener("change", () => {
        this[key] = input.checked;
        this.redrawAll();
      });
      return h("label", { class: cls }, input, label);
    };
    this.ui.append(
      h(
        "div",
        { class: "lk-row" },
        this.sprite,
        h(
          "div",
          { class: "lk-col" },
          this.slider,
          h("div", { class: "lk-row" }, button(this.t.new_a, this.t.new_a_tip, "lk-gan-new-a", () => this.newEnd("a")), button(this.t.new_b, this.t.new_b_tip, "lk-gan-new-b", () => this.newEnd("b"))),
          h("div", { class: "lk-row" }, box(this.t.snap, s.snap, "lk-gan-snap", "snap"), box(this.t.spherical, s.spherical, "lk-gan-spherical", "spherical")),
        ),
      ),
      h("div", { html: this.t.path }),
      this.strip,
    );
    this.redrawSprite = latestOnly(() => this.drawSprite());
    this.redrawStrip = latestOnly(() => this.drawStrip());
    await this.redrawAll();
    this.ready();
  }

  async run(t) {
    const ort = await runtime();
    const result = await this.model.run({
      z0: new ort.Tensor("float32", this.zA, [this.zA.length]),
      z1: new ort.Tensor("float32", this.zB, [this.zB.length]),
      t: new ort.Tensor("float32", t, [t.length]),
      spherical: new ort.Tensor("bool", Uint8Array.from([this.spherical ? 1 : 0]), [1]),
    });
    return (this.snap ? result.snapped : result.rgb).data;
  }

  async drawSprite() {
    const started = performance.now();
    drawGrid(this.sprite, await this.run(Float32Array.from([this.position])), 1, 20, 20, 1, 0, this.spec.scale);
    this.timings.push(performance.now() - started);
  }

  async drawStrip() {
    const n = this.spec.steps;
    const scale = Math.max(1, Math.min(Math.max(2, Math.floor(this.spec.scale / 2)), Math.floor(800 / (n * 21 - 1))));
    drawGrid(this.strip, await this.run(linspace(0, 1, n)), n, 20, 20, n, 1, scale);
  }

  redrawAll() {
    return Promise.all([this.redrawStrip(), this.redrawSprite()]);
  }

  newEnd(which) {
    const code = Float32Array.from(this.spec.spare_codes[this.spare % this.spec.spare_codes.length]);
    this.spare += 1;
    if (which === "a") this.zA = code;
    else this.zB = code;
    return this.redrawAll();
  }

  picture_rgb() {
    return canvasRGB(this.sprite);
  }

  strip_rgb() {
    return canvasRGB(this.strip);
  }
}

// ---------------------------------------------------------------------------------------------- sentences
const PUNCT = ",.?!;:";
const OPEN = '("[';
const CLOSE = ')"]';
const [PAD, BOS, EOS, UNK] = [0, 1, 2, 3];
const SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"];

// lecturekit.corpus.tokenize and detokenize
function tokenize(sentence) {
  const tokens = [];
  for (let chunk of sentence.toLowerCase().split(/\s+/).filter(Boolean)) {
    const head = [];
    const tail = [];
    while (chunk && OPEN.includes(chunk[0])) {
      head.push(chunk[0]);
      chunk = chunk.slice(1);
    }
    while (chunk && (PUNCT.includes(chunk.at(-1)) || CLOSE.includes(chunk.at(-1)))) {
      tail.push(chunk.at(-1));
      chunk = chunk.slice(0, -1);
    }
    tokens.push(...head);
    if (chunk) tokens.push(chunk);
    tokens.push(...tail.reverse());
  }
  return tokens;
}

function detokenize(tokens) {
  let out = "";
  let glue = true;
  for (const tok of tokens) {
    if (PUNCT.includes(tok) || ")]".includes(tok)) out += tok;
    else out += glue ? tok : ` ${tok}`;
    glue = tok === "(" || tok === "[";
  }
  return out;
}

// lecturekit.corpus._Grammar.recognise: can the corpus grammar derive these tokens?
class Grammar {
  constructor(data) {
    this.rules = new Map(Object.entries(data.rules));
    this.lex = new Map(Object.entries(data.lex).map(([k, v]) => [k, new Set(v)]));
    this.min = data.min_tokens;
    this.max = data.max_tokens;
  }

  recognise(tokens) {
    if (tokens.length < this.min || tokens.length > this.max) return false;
    const n = tokens.length;
    const memo = new Map();
    const ends = (sym, pos) => {
      const words = this.lex.get(sym);
      if (words) return pos < n && words.has(tokens[pos]) ? [pos + 1] : [];
      const rules = this.rules.get(sym);
      if (!rules) return pos < n && tokens[pos] === sym ? [pos + 1] : [];
      const key = `${sym}\u0000${pos}`;
      if (memo.has(key)) return memo.get(key);
      const found = new Set();
      for (const seq of rules) {
        let cur = new Set([pos]);
        for (const item of seq) {
          const next = new Set();
          for (const p of cur) for (const e of ends(item, p)) next.add(e);
          cur = next;
          if (!cur.size) break;
        }
        for (const e of cur) found.add(e);
      }
      const res = [...found];
      memo.set(key, res);
      return res;
    };
    return ends("S", 0).includes(n);
  }
}

// notebook 06: two sentences, their codes, the path between them decoded (greedy, beam search, sampling)
class Sentences extends Figure {
  async start() {
    const s = this.spec;
    const [encoder, decoder, text] = await Promise.all([
      session(s.files.encoder),
      session(s.files.decoder),
      fetch(new URL(s.files.text, BASE)).then((r) => r.json()),
    ]);
    this.encoder = encoder;
    this.decoder = decoder;
    this.itos = text.itos;
    this.stoi = new Map(text.itos.map((w, i) => [w, i]));
    this.maxLen = text.max_len;
    this.latent = text.latent_dim;
    this.hiddenSize = text.hidden;
    this.grammar = s.check_grammar ? new Grammar(text.grammar) : null;
    this.method = s.method;
    this.steps = s.steps;
    this.position = s.position;
    this.sampleKey = 0;
    const textBox = (label, value, cls) => {
      const input = h("input", { type: "text", value, "aria-label": label, spellcheck: "false" });
      input.addEventListener("input", () => this.refresh());
      return h("label", { class: cls }, h("span", {}, label), input);
    };
    this.boxA = textBox(this.t.sentence_a, s.sentence_a, "lk-sentence-a");
    this.boxB = textBox(this.t.sentence_b, s.sentence_b, "lk-sentence-b");
    const methods = [[this.t.greedy, "greedy"], [this.t.beam, "beam"], [this.t.sampling, "sample"]];
    this.note = h("div", { class: "lk-note lk-interp-note" });
    this.atPosition = h("div", { class: "lk-position-sentence" });
    this.table = h("div", { class: "lk-interp-table" });
    this.positionControl = rangeControl({
      label: this.t.position, min: 0, max: 1, step: 0.05, value: s.position, cls: "lk-position", wide: true,
      onchange: (v) => {
        this.position = v;
        this.updatePosition();
      },
    });
    this.ui.append(
      this.boxA,
      this.boxB,
      h(
        "div",
        { class: "lk-row" },
        rangeControl({ label: this.t.steps, min: s.steps_range[0], max: s.steps_range[1], step: 1, value: s.steps, cls: "lk-steps", digits: 0, onchange: (v) => { this.steps = v; this.refresh(); } }),
        select(this.t.decoding, methods, s.method, "lk-decoding", (v) => { this.method = v; this.refresh(); }),
      ),
      this.note,
      this.positionControl,
      this.atPosition,
      this.table,
    );
    this.refresh = latestOnly(() => this.update());
    this.updatePosition = latestOnly(() => this.decodePosition());
    await this.refresh();
    this.ready();
  }

  words(sentence) {
    return tokenize(sentence);
  }

  async encode(sentence) {
    const ort = await runtime();
    const words = this.words(sentence).slice(0, this.maxLen - 1);
    const ids = words.map((w) => (SPECIALS.includes(w) ? UNK : this.stoi.get(w) ?? UNK));
    ids.push(EOS);
    const out = await this.encoder.run({ ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    return Float32Array.from(out.mean.data);
  }

  problems(a, b) {
    const notes = [];
    for (const [label, text] of [["A", a], ["B", b]]) {
      if (!text.trim() || !this.words(text).length) return { error: format(this.t.sentence_empty, { label }) };
      const unknown = [];
      for (const w of this.words(text)) if (!this.stoi.has(w) && !unknown.includes(w)) unknown.push(w);
      if (unknown.length) {
        const words = unknown.map((w) => `'${w}'`).join(", ");
        notes.push(format(unknown.length === 1 ? this.t.unknown_one : this.t.unknown_many, { label, words, n: this.itos.length }));
      }
    }
    return { notes };
  }

  lerp(za, zb, t) {
    // z_a + t * (z_b - z_a) in float32 (lecturekit.models.sentence_vae.interpolate_codes, decode_at)
    return za.map((a, d) => f32(a + f32(t * f32(zb[d] - a))));
  }

  async update() {
    const a = this.boxA.querySelector("input").value;
    const b = this.boxB.querySelector("input").value;
    const checked = this.problems(a, b);
    if (checked.error) {
      this.rows = [];
      this.note.textContent = checked.error;
      this.table.innerHTML = "";
      this.atPosition.innerHTML = "";
      this.codesAB = null;
      return;
    }
    this.note.innerHTML = checked.notes.map((n) => escapeHtml(n)).join("<br>");
    const [za, zb] = [await this.encode(a), await this.encode(b)];
    this.codesAB = [za, zb];
    const ts = linspace(0, 1, this.steps);
    const codes = Array.from(ts, (t) => this.lerp(za, zb, t));
    this.rows = await this.decode(codes);
    const grammatical = this.grammar ? this.rows.map((r) => this.grammar.recognise(tokenize(r))) : null;
    this.table.innerHTML = this.tableHtml(this.rows, grammatical);
    await this.decodePosition();
  }

  async decodePosition() {
    if (!this.codesAB) return;
    const started = performance.now();
    const [za, zb] = this.codesAB;
    const [sentence] = await this.decode([this.lerp(za, zb, f32(this.position))]);
    this.sentenceAtPosition = sentence;
    let mark = "";
    if (this.grammar) mark = this.grammar.recognise(tokenize(sentence)) ? ` ✓ ${this.t.in_grammar}` : ` · ${this.t.not_in_grammar}`;
    const shown = sentence ? escapeHtml(sentence) : `<i>${this.t.empty}</i>`;
    this.atPosition.innerHTML = `<span style="font-family:monospace">t = ${this.position.toFixed(2)}</span>: <b>${shown}</b>${mark}`;
    this.timings.push(performance.now() - started);
  }

  tableHtml(rows, grammatical) {
    const n = rows.length;
    let head = `<tr><th style="text-align:right">t</th><th style="text-align:left">${this.t.decoded}</th>`;
    head += grammatical ? `<th>${this.t.grammar}</th></tr>` : "</tr>";
    const body = rows.map((text, i) => {
      const t = n > 1 ? i / (n - 1) : 0;
      let cells = `<td style="text-align:right;font-family:monospace">${t.toFixed(2)}</td>`;
      cells += `<td class="lk-interp-sentence" style="text-align:left">${text ? escapeHtml(text) : `<i>${this.t.empty}</i>`}</td>`;
      if (grammatical) cells += `<td style="text-align:center">${grammatical[i] ? "✓" : "·"}</td>`;
      return `<tr>${cells}</tr>`;
    });
    return `<table class="lk-interp-rows">${head}${body.join("")}</table>`;
  }

  async step(tokens, z, hState, first) {
    const ort = await runtime();
    const n = tokens.length;
    const out = await this.decoder.run({
      tokens: new ort.Tensor("int64", BigInt64Array.from(tokens.map(BigInt)), [n]),
      z: new ort.Tensor("float32", z, [n, this.latent]),
      h: hState ?? new ort.Tensor("float32", new Float32Array(n * this.hiddenSize), [n, this.hiddenSize]),
      first: new ort.Tensor("bool", Uint8Array.from([first ? 1 : 0]), [1]),
    });
    return [out.logits.data, out.h_out];
  }

  async decode(codes) {
    if (this.method === "beam") {
      const rows = [];
      for (const z of codes) rows.push(await this.beam(z, 5));
      return rows.map((ids) => this.text(ids));
    }
    return (await this.stepwise(codes)).map((ids) => this.text(ids));
  }

  text(ids) {
    const words = [];
    for (const i of ids) {
      if (i === EOS) break;
      if (i === PAD || i === BOS) continue;
      words.push(this.itos[i]);
    }
    return detokenize(words);
  }

  // SentenceVAE._decode_stepwise: greedy (argmax) or sampling at T = 0.7, every sentence side by side
  async stepwise(codes) {
    const n = codes.length;
    const v = this.itos.length;
    const z = new Float32Array(n * this.latent);
    codes.forEach((c, i) => z.set(c, i * this.latent));
    let tokens = new Array(n).fill(BOS);
    let hState = null;
    const finished = new Array(n).fill(false);
    const rows = Array.from({ length: n }, () => []);
    const key = 7919 + this.sampleKey++;
    for (let step = 0; step < this.maxLen; step++) {
      const [logits, hNext] = await this.step(tokens, z, hState, step === 0);
      hState = hNext;
      const next = [];
      for (let i = 0; i < n; i++) {
        const row = Float64Array.from(logits.subarray(i * v, (i + 1) * v));
        row[PAD] = -Infinity;
        row[BOS] = -Infinity;
        let w;
        if (this.method === "sample") w = drawIndex(row, 0, v, 0.7, uniform(key, step * n + i));
        else w = argmax(row, 0, v);
        if (finished[i]) w = PAD;
        next.push(w);
        rows[i].push(w);
        if (w === EOS) finished[i] = true;
      }
      tokens = next.map((w) => Math.max(w, 0));
      if (finished.every(Boolean)) break;
    }
    return rows;
  }

  // SentenceVAE._beam_one: `size` hypotheses, scores are summed log-probabilities, a finished one is
  // scored per word
  async beam(z, size) {
    const v = this.itos.length;
    let beams = [{ score: 0, ids: [], h: null }];
    const done = [];
    for (let step = 0; step < this.maxLen; step++) {
      const n = beams.length;
      const zs = new Float32Array(n * this.latent);
      for (let i = 0; i < n; i++) zs.set(z, i * this.latent);
      const hState = step === 0 ? null : await this.stackHidden(beams.map((b) => b.h));
      const [logits, hNext] = await this.step(beams.map((b) => (b.ids.length ? b.ids.at(-1) : BOS)), zs, hState, step === 0);
      const scores = [];
      for (let b = 0; b < n; b++) {
        const row = logits.subarray(b * v, (b + 1) * v);
        let max = -Infinity;
        for (let j = 0; j < v; j++) max = Math.max(max, row[j]);
        let total = 0;
        for (let j = 0; j < v; j++) total += Math.exp(row[j] - max);
        const lse = max + Math.log(total);
        for (let j = 0; j < v; j++) {
          const logp = j === PAD || j === BOS ? -Infinity : f32(row[j] - lse);
          scores.push({ score: f32(beams[b].score + logp), flat: b * v + j }); // torch keeps them in float32
        }
      }
      scores.sort((p, q) => q.score - p.score || p.flat - q.flat);
      const fresh = [];
      for (const { score, flat } of scores.slice(0, Math.min(size, scores.length))) {
        const b = Math.floor(flat / v);
        const w = flat % v;
        if (w === EOS) done.push({ score: score / (beams[b].ids.length + 1), ids: beams[b].ids });
        else fresh.push({ score, ids: [...beams[b].ids, w], h: hNext.data.slice(b * this.hiddenSize, (b + 1) * this.hiddenSize) });
      }
      if (!fresh.length || done.length >= size) break;
      beams = fresh;
    }
    const finals = done.length ? done : beams.map((b) => ({ score: b.score / Math.max(b.ids.length, 1), ids: b.ids }));
    let best = finals[0];
    for (const f of finals) if (f.score > best.score) best = f;
    return best.ids;
  }

  async stackHidden(states) {
    const ort = await runtime();
    const data = new Float32Array(states.length * this.hiddenSize);
    states.forEach((s, i) => data.set(s, i * this.hiddenSize));
    return new ort.Tensor("float32", data, [states.length, this.hiddenSize]);
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" })[c]);
}

// ---------------------------------------------------------------------------------------------- start
const FIGURES = {
  "latent-sliders": LatentSliders,
  "latent-grid": LatentGrid,
  "pixelrnn-sampler": Sampler,
  "gan-interpolation": GanPath,
  "sentence-interpolation": Sentences,
};

async function mount(root) {
  if (root.dataset.state) return;
  root.dataset.state = "loading";
  const spec = JSON.parse(root.querySelector("script.lk-live-spec").textContent);
  const Kind = FIGURES[spec.figure];
  if (!spec.files || !Kind) {
    root.dataset.state = "static";
    root.prepend(h("div", { class: "lk-badge" }, spec.labels.not_shipped));
    return;
  }
  const figure = new Kind(root, spec);
  root.lkFigure = figure;
  try {
    await figure.start();
  } catch (error) {
    root.dataset.state = "failed";
    figure.badge.textContent = format(spec.labels.failed, { error: error?.message ?? error });
    console.error("lecturekit live figure", spec.figure, error);
  }
}

for (const root of document.querySelectorAll(".lk-live")) mount(root);
