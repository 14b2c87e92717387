// htrkit serve: the drawing pad, uploads, and the results of POST /api/recognize.
"use strict";

const SIZES = { // canvas pixels and pen width per mode
  digit: { w: 280, h: 280, pen: 20 },
  line: { w: 1000, h: 300, pen: 10 },
  page: { w: 800, h: 1000, pen: 6 },
};
const DEBOUNCE_MS = 700;

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ctx = pad.getContext("2d");
const state = {
  mode: "line",
  tool: "pen",
  strokes: [], // {tool, width, points: [[x, y], ...]}
  current: null,
  upload: null, // {blob, name, url} while an uploaded image is shown
  timer: null,
  seq: 0, // requests sent
  shown: 0, // the newest request whose answer is shown
  config: null,
};

// -- settings ------------------------------------------------------------------------

async function loadConfig() {
  try {
    const response = await fetch("/api/config");
    state.config = await response.json();
  } catch (err) {
    showError("cannot reach the server: " + err.message);
    return;
  }
  const decoder = $("decoder");
  for (const [name, labelText] of Object.entries(state.config.decoders)) {
    decoder.add(new Option(labelText, name, false, name === state.config.default_decoder));
  }
  const lang = $("lang");
  for (const [name, labelText] of Object.entries(state.config.langs || {})) {
    lang.add(new Option(labelText, name, false, name === "auto"));
  }
  lang.addEventListener("change", rerun);
  const pattern = $("pattern");
  for (const preset of state.config.presets) pattern.add(new Option(preset, preset));
  decoder.addEventListener("change", () => { syncDecoder(); rerun(); });
  pattern.addEventListener("change", rerun);
  syncDecoder();
}

function syncDecoder() {
  const digit = state.mode === "digit";
  const isPattern = $("decoder").value === "pattern";
  $("decoder").disabled = digit;
  $("lang").disabled = digit;
  $("decoder-note").hidden = !digit;
  $("pattern").hidden = $("pattern-label").hidden = digit || !isPattern;
}

function setMode(mode) {
  state.mode = mode;
  const size = SIZES[mode];
  pad.width = size.w;
  pad.height = size.h;
  pad.className = mode;
  state.strokes = [];
  redraw();
  syncDecoder();
  clearResult();
  if (state.upload) rerun();
}

function options() {
  const decoder = $("decoder").value;
  if (decoder === "pattern") return { pattern: $("pattern").value };
  return {};
}

// -- drawing -------------------------------------------------------------------------

function point(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

function paint(stroke) {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = stroke.tool === "eraser" ? "#ffffff" : "#000000";
  ctx.fillStyle = ctx.strokeStyle;
  ctx.lineWidth = stroke.width;
  const pts = stroke.points;
  if (pts.length === 1) {
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], stroke.width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (const [x, y] of pts.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
}

function redraw() {
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  for (const stroke of state.strokes) paint(stroke);
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  clearTimeout(state.timer);
  const width = SIZES[state.mode].pen * (state.tool === "eraser" ? 3 : 1);
  state.current = { tool: state.tool, width, points: [point(event)] };
  paint(state.current);
});

pad.addEventListener("pointermove", (event) => {
  if (!state.current) return;
  event.preventDefault();
  const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  const added = coalesced.length ? coalesced : [event];
  const pts = state.current.points;
  const from = pts[pts.length - 1];
  for (const e of added) pts.push(point(e));
  ctx.beginPath();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = state.current.width;
  ctx.strokeStyle = state.current.tool === "eraser" ? "#ffffff" : "#000000";
  ctx.moveTo(from[0], from[1]);
  for (const [x, y] of pts.slice(-added.length)) ctx.lineTo(x, y);
  ctx.stroke();
});

function endStroke() {
  if (!state.current) return;
  state.strokes.push(state.current);
  state.current = null;
  schedule();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function schedule() {
  clearTimeout(state.timer);
  if ($("live").checked) state.timer = setTimeout(read, DEBOUNCE_MS);
}

function setTool(tool) {
  state.tool = tool;
  $("pen").setAttribute("aria-pressed", String(tool === "pen"));
  $("eraser").setAttribute("aria-pressed", String(tool === "eraser"));
}

// -- uploads -------------------------------------------------------------------------

function showUpload(file) {
  if (!file) return;
  if (state.upload) URL.revokeObjectURL(state.upload.url);
  state.upload = { blob: file, name: file.name || "upload", url: URL.createObjectURL(file) };
  $("page-img").src = state.upload.url;
  $("boxes").innerHTML = "";
  $("preview").hidden = false;
  pad.hidden = true;
  $("hint").hidden = true;
  read();
}

function leaveUpload() {
  if (state.upload) URL.revokeObjectURL(state.upload.url);
  state.upload = null;
  $("preview").hidden = true;
  pad.hidden = false;
  $("hint").hidden = false;
  $("upload").value = "";
}

const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) showUpload(file);
});
$("upload").addEventListener("change", (event) => showUpload(event.target.files[0]));

// -- recognition ---------------------------------------------------------------------

function canvasBlob() {
  return new Promise((resolve) => pad.toBlob(resolve, "image/png"));
}

function rerun() {
  if (state.upload || state.strokes.length) read();
}

async function read() {
  clearTimeout(state.timer);
  if (!state.upload && !state.strokes.length) return;
  // numbered before anything is awaited: a read asked for later always gets a higher
  // number, and the page counts it as sent at once, so an older answer that arrives while
  // this one's drawing is still being encoded is never taken for the newest
  const seq = ++state.seq;
  $("text").dataset.sent = String(seq);
  setStatus("reading…", "busy");
  let blob;
  let name;
  if (state.upload) {
    blob = state.upload.blob;
    name = state.upload.name;
  } else {
    blob = await canvasBlob();
    name = "drawing.png";
  }
  const form = new FormData();
  form.append("image", blob, name);
  // a drawn line is sent as a drawing (read with a margin); an upload as its mode says
  form.append("mode", !state.upload && state.mode === "line" ? "drawing" : state.mode);
  form.append("decoder", $("decoder").value);
  form.append("lang", $("lang").value);
  form.append("options", JSON.stringify(options()));
  let body;
  let status;
  try {
    const response = await fetch("/api/recognize", { method: "POST", body: form });
    status = response.status;
    const raw = await response.text();
    try {
      body = JSON.parse(raw);
    } catch (err) {
      body = { error: `${response.status} ${response.statusText}` };
    }
  } catch (err) {
    body = { error: "cannot reach the server: " + err.message };
  }
  if (seq < state.shown) return; // a newer answer is already shown
  state.shown = seq;
  const newest = seq === state.seq; // else a newer read is still on its way: still busy
  if (body.error || status !== 200) {
    showError(body.error || `error ${status}`);
    if (newest) setStatus("", "error");
  } else {
    showResult(body);
    const language = body.lang ? `, ${state.config.langs[body.lang] || body.lang}` : "";
    if (newest) setStatus(`read in ${body.seconds.toFixed(2)} s (${body.decoder}${language})`, "done");
  }
  $("text").dataset.seq = String(seq);
}

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").dataset.state = kind;
}

function clearResult() {
  $("text").textContent = "";
  $("confidence").textContent = "";
  $("words").innerHTML = "";
  $("boxes").innerHTML = "";
  $("error").hidden = true;
  $("copy").disabled = true;
  setStatus("", "idle");
}

function showError(message) {
  $("text").textContent = "";
  $("confidence").textContent = "";
  $("words").innerHTML = "";
  $("error").textContent = message;
  $("error").hidden = false;
  $("copy").disabled = true;
}

function quality(p) {
  return p >= 0.9 ? "good" : p >= 0.6 ? "fair" : "poor";
}

function showResult(result) {
  $("error").hidden = true;
  $("text").textContent = result.text;
  $("confidence").textContent = result.lines.length
    ? `confidence ${Math.round(result.confidence * 100)}%`
    : "nothing read";
  $("copy").disabled = !result.text;
  const words = $("words");
  words.innerHTML = "";
  result.lines.forEach((line, i) => {
    if (i) words.appendChild(Object.assign(document.createElement("span"), { className: "line-break" }));
    for (const word of line.words) {
      const chip = document.createElement("span");
      chip.className = `word ${quality(word.confidence)}`;
      chip.title = `confidence ${(word.confidence * 100).toFixed(1)}%`;
      chip.textContent = word.text;
      const pct = document.createElement("small");
      pct.textContent = `${Math.round(word.confidence * 100)}%`;
      chip.appendChild(pct);
      words.appendChild(chip);
    }
  });
  if (state.upload) drawBoxes(result);
}

function drawBoxes(result) {
  const svg = $("boxes");
  const ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("viewBox", `0 0 ${result.width} ${result.height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.innerHTML = "";
  result.lines.forEach((line, i) => {
    const poly = document.createElementNS(ns, "polygon");
    poly.setAttribute("points", line.polygon.map(([x, y]) => `${x},${y}`).join(" "));
    poly.dataset.line = String(i);
    const title = document.createElementNS(ns, "title");
    title.textContent = line.text;
    poly.appendChild(title);
    svg.appendChild(poly);
  });
}

async function copyText() {
  const text = $("text").textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) { // no clipboard API (plain http on another host): select and copy
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  $("copy").textContent = "Copied";
  setTimeout(() => { $("copy").textContent = "Copy text"; }, 1500);
}

// -- wiring --------------------------------------------------------------------------

$("pen").addEventListener("click", () => setTool("pen"));
$("eraser").addEventListener("click", () => setTool("eraser"));
$("undo").addEventListener("click", () => {
  if (state.upload) return;
  state.strokes.pop();
  redraw();
  if (state.strokes.length) schedule();
  else clearResult();
});
$("clear").addEventListener("click", () => {
  leaveUpload();
  state.strokes = [];
  redraw();
  clearResult();
});
$("read").addEventListener("click", read);
$("copy").addEventListener("click", copyText);
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => setMode(radio.value));
}

setMode(document.querySelector('input[name="mode"]:checked').value);
loadConfig();
