// The framex preview page: plans a composition with framex-core compiled to
// WebAssembly (./pkg, written by scripts/build-wasm.sh) and draws, per source,
// what will be extracted. No framework, no bundler.
//
// For tests, <body> carries data-state ("loading", "planned", "invalid",
// "error") and data-updates (a counter bumped after every render); the DOM
// carries data-testid attributes and the request in <pre data-testid=request>.

const STORAGE_KEY = "framex-preview:composition";
const PALETTE = ["#3b6cf6", "#e8833a", "#20a37f", "#b650d6", "#d9424b", "#0f9fb5", "#a5780f", "#5f5ce6"];
const US = 1_000_000;

const $ = (id) => document.getElementById(id);
const textarea = $("composition");

let framex = null; // the wasm module, once loaded
const dropped = new Map(); // file name → { name, size, lastModified, durationUs }
const cachedKeys = new Set(); // works the person marked as already cached
let updates = 0;

main();

async function main() {
  document.body.dataset.state = "loading";
  try {
    framex = await import("./pkg/framex_wasm.js");
    await framex.default();
  } catch (err) {
    setState("error");
    showStatus("error", "The planner could not be loaded: the wasm package is probably not built. " +
      "Run scripts/build-wasm.sh in the framex checkout, then reload this page. (" + err.message + ")");
    return;
  }
  $("version").textContent = framex.version();

  textarea.addEventListener("input", () => schedule());
  $("superset").addEventListener("change", () => update());
  $("gap").addEventListener("input", () => schedule());
  $("example").addEventListener("click", () => loadExample());
  $("files").addEventListener("change", (e) => addFiles([...e.target.files]));
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (e) => {
      e.preventDefault();
      $("drop").classList.add("dragging");
    });
  }
  document.addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) $("drop").classList.remove("dragging");
  });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    $("drop").classList.remove("dragging");
    addFiles([...e.dataTransfer.files]);
  });

  const saved = readStorage();
  if (saved) {
    textarea.value = saved;
    update();
  } else {
    await loadExample(); // first visit
  }
}

async function loadExample() {
  try {
    const response = await fetch("pkg/example.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    textarea.value = await response.text();
  } catch (err) {
    textarea.value = '{ "elements": [] }';
    showStatus("error", "The example (pkg/example.json) could not be loaded: " + err.message);
  }
  cachedKeys.clear();
  update();
}

let timer = 0;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(update, 200);
}

// ---- Planning ----------------------------------------------------------------

function update() {
  clearTimeout(timer);
  const text = textarea.value;
  writeStorage(text);
  const composition = tryParse(text);
  const sources = sourceFacts(composition);
  hide($("parse-error"));

  // Validate first: every problem, each with its element.
  let details;
  try {
    details = framex.validate(text, sources);
  } catch (err) {
    const index = elementIndexOfPath(err.path);
    showParseError(err);
    render({ composition, details: [], parseError: { index, message: err.message } });
    setState("invalid");
    showStatus("invalid", "The composition is not well-formed: see the message under the editor.");
    return;
  }
  if (details.length > 0) {
    render({ composition, details });
    setState("invalid");
    const n = details.length;
    showStatus("invalid", `${n} problem${n === 1 ? "" : "s"} to fix before anything can be planned: ` +
      "each is shown under its element below.");
    return;
  }

  const request = {
    composition,
    sources,
    cachedKeys: [...cachedKeys].sort(),
    options: { superset: $("superset").checked, supersetGapUs: gapUs() },
  };
  $("request").textContent = stringifyExact(request, 2);
  let plan;
  const started = performance.now();
  try {
    plan = framex.plan(request);
  } catch (err) {
    render({ composition, details: err.errors ?? [] });
    setState("error");
    showStatus("error", err.message);
    return;
  }
  const ms = performance.now() - started;
  render({ composition, details: [], plan, request });
  setState("planned");
  const t = plan.totals;
  showStatus("planned", `Planned in ${ms < 1 ? "under 1" : ms.toFixed(0)} ms: ${count(t.elements, "element")} ` +
    `need ${count(t.units, "extraction")} (${count(t.framesToExtract, "frame")}).`);
}

function gapUs() {
  const seconds = Number($("gap").value);
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * US) : 0;
}

/** Facts for every src that a dropped file's name matches (by base name). */
function sourceFacts(composition) {
  const sources = {};
  for (const element of elementsOf(composition)) {
    if (typeof element?.src !== "string") continue;
    const file = dropped.get(basename(element.src));
    if (!file || sources[element.src]) continue;
    sources[element.src] = {
      // A file as the browser knows it: its name as written, size and
      // modification time. Any change to the file changes its identity.
      identity: { kind: "file", path: element.src, size: file.size, mtimeNs: BigInt(file.lastModified) * 1_000_000n },
      ...(file.durationUs !== null ? { durationUs: file.durationUs } : {}),
    };
  }
  return sources;
}

// ---- Dropped files -------------------------------------------------------------

async function addFiles(files) {
  const videos = files.filter((f) => f.type.startsWith("video/") || /\.(mp4|mov|webm|mkv|m4v|avi)$/i.test(f.name));
  if (videos.length === 0) return;
  for (const file of videos) {
    dropped.set(file.name, {
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
      durationUs: await probeDuration(file),
    });
  }
  // A file that no element uses becomes an element covering the whole clip.
  const composition = tryParse(textarea.value) ?? { elements: [] };
  if (Array.isArray(composition.elements)) {
    const used = new Set(composition.elements.map((e) => basename(String(e?.src ?? ""))));
    const ids = new Set(composition.elements.map((e) => e?.id));
    let added = false;
    for (const file of videos) {
      if (used.has(file.name)) continue;
      const facts = dropped.get(file.name);
      let id = file.name.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "-").replace(/^[.-]+/, "") || "clip";
      for (let n = 2; ids.has(id); n++) id = id.replace(/-\d+$/, "") + "-" + n;
      ids.add(id);
      const duration = facts.durationUs !== null ? facts.durationUs / US : 1;
      composition.elements.push({ id, src: file.name, mediaStart: 0, duration, fps: 30, format: "png" });
      added = true;
    }
    if (added) textarea.value = formatComposition(composition);
  }
  renderSources();
  update();
}

/** The duration a <video> element reads from the file's metadata, in µs, or null. */
function probeDuration(file) {
  return new Promise((resolve) => {
    const video = document.createElement("video");
    const url = URL.createObjectURL(file);
    let settled = false;
    const done = (value) => {
      if (settled) return;
      settled = true;
      URL.revokeObjectURL(url);
      video.removeAttribute("src");
      resolve(value);
    };
    video.preload = "metadata";
    video.muted = true;
    video.onloadedmetadata = () =>
      done(Number.isFinite(video.duration) && video.duration > 0 ? Math.round(video.duration * US) : null);
    video.onerror = () => done(null);
    setTimeout(() => done(null), 10_000);
    video.src = url;
  });
}

function renderSources() {
  const list = $("sources");
  list.replaceChildren();
  for (const file of dropped.values()) {
    const item = el("li", { "data-testid": "source-file", "data-name": file.name });
    item.append(
      el("b", {}, file.name),
      el("span", {}, formatBytes(file.size)),
      el("span", {}, "modified " + new Date(file.lastModified).toISOString().slice(0, 16).replace("T", " ")),
      el("span", { "data-testid": "source-duration" },
        file.durationUs === null ? "duration unknown (the browser cannot read this file)" : seconds(file.durationUs) + " s"),
    );
    const remove = el("button", { type: "button", title: "Forget this file", "aria-label": "Forget " + file.name }, "×");
    remove.addEventListener("click", () => {
      dropped.delete(file.name);
      renderSources();
      update();
    });
    item.append(remove);
    list.append(item);
  }
}

// ---- Rendering -----------------------------------------------------------------

function render({ composition, details, plan = null, parseError = null, request = null }) {
  renderTotals(plan);
  renderTimelines(plan, composition, request);
  renderElements(composition, plan, details, parseError);
  if (!plan) $("request").textContent = "";
  updates += 1;
  document.body.dataset.updates = String(updates);
}

function renderTotals(plan) {
  const box = $("totals");
  $("legend").hidden = !plan;
  if (!plan) {
    hide(box);
    return;
  }
  const t = plan.totals;
  const percent = t.framesRequested > 0 ? Math.round((t.framesSaved * 100) / t.framesRequested) : 0;
  const values = {
    "total-elements": t.elements,
    "total-unique-works": t.uniqueWorks,
    "total-dedupe-hits": t.dedupeHits,
    "total-units": t.units,
    "total-superset-groups": t.supersetGroups,
    "total-cache-hits": t.cacheHits,
    "total-frames-requested": t.framesRequested,
    "total-frames-to-extract": t.framesToExtract,
    "total-frames-saved": t.framesSaved,
    "total-percent-saved": percent,
  };
  for (const [id, value] of Object.entries(values)) {
    const node = box.querySelector(`[data-testid="${id}"]`);
    node.dataset.value = String(value);
    node.textContent = id === "total-percent-saved" ? `${value}%` : value.toLocaleString("en-US");
  }
  box.hidden = false;
}

/** One section per source; in it, one group per extraction (or cached work), one lane per element. */
function renderTimelines(plan, composition, request) {
  const root = $("timelines");
  root.replaceChildren();
  if (!plan) return;
  const elements = elementsOf(composition);
  const units = new Map(plan.units.map((u, i) => [u.id, { unit: u, colour: PALETTE[i % PALETTE.length] }]));

  // Sources in order of first use; in each, groups in order of first use.
  const sources = new Map();
  plan.assignments.forEach((a, index) => {
    const src = elements[index].src;
    if (!sources.has(src)) sources.set(src, new Map());
    const groups = sources.get(src);
    const key = a.unit ?? "cache:" + a.cacheKey;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(index);
  });

  for (const [src, groups] of sources) {
    const facts = request?.sources?.[src];
    // The scale: everything drawn for this source, and the clip's end when known.
    let endUs = facts?.durationUs !== undefined ? Number(facts.durationUs) : 0;
    for (const indices of groups.values()) {
      for (const i of indices) endUs = Math.max(endUs, laneEnd(plan.assignments[i]));
      const unit = units.get(plan.assignments[indices[0]].unit)?.unit;
      if (unit) endUs = Math.max(endUs, unit.startUs + framesToUs(unit.frameCount, unit.fps));
    }
    const scale = niceScale(endUs);
    const x = (us) => `${((us / scale.endUs) * 100).toFixed(3)}%`;

    const section = el("section", { class: "source", "data-testid": "source", "data-src": src });
    const file = dropped.get(basename(src));
    const about = file
      ? `${formatBytes(file.size)} · ${file.durationUs === null ? "duration unknown" : seconds(file.durationUs) + " s long"}`
      : "known by name only: drop the file to add its duration";
    section.append(el("h3", {}, el("span", { class: "src" }, src), el("small", {}, about)));

    const axis = el("div", { class: "lane axis" }, el("div", { class: "lane-label" }, "source time"));
    const ticks = el("div", { class: "track" });
    if (facts?.durationUs !== undefined) {
      ticks.append(el("div", { class: "clip-extent", style: `width:${x(Number(facts.durationUs))}` }));
    }
    for (let t = 0; t <= scale.endUs + 1; t += scale.stepUs) {
      ticks.append(el("span", { class: "tick", style: `left:${x(t)}` }, seconds(t) + " s"));
    }
    axis.append(ticks);
    section.append(axis);

    for (const [key, indices] of groups) {
      section.append(renderGroup(plan, elements, key, indices, units, x));
    }
    root.append(section);
  }
}

function renderGroup(plan, elements, key, indices, units, x) {
  const first = plan.assignments[indices[0]];
  const entry = units.get(first.unit);
  const group = el("div", {
    class: "group" + (entry ? "" : " cached"),
    "data-testid": "group",
    "data-unit": entry ? entry.unit.id : "",
    style: entry ? `--c:${entry.colour}` : null,
  });

  // The head: what this extraction is, and a switch to pretend it is cached.
  const keys = entry ? entry.unit.members.map((m) => m.cacheKey) : [first.cacheKey];
  const head = el("div", { class: "group-head" });
  if (entry) {
    const u = entry.unit;
    const works = u.members.length;
    const what = works > 1
      ? `one extraction covers ${works} overlapping trims`
      : indices.length > 1 ? `extracted once, used by ${indices.length} elements` : "one extraction";
    head.append(
      el("span", { class: "unit-id" }, u.id),
      el("span", {}, `${what} · ${u.frameCount.toLocaleString("en-US")} frames at ${fpsText(u.fps)} fps, ${u.format}` +
        (u.transfer ? `, ${u.transfer}` : "") + (u.alpha ? ", with alpha" : "")),
    );
  } else {
    head.append(
      el("span", { class: "unit-id" }, "✓"),
      el("span", {}, `already in the cache · ${first.slice.count.toLocaleString("en-US")} frames, nothing to extract`),
    );
  }
  const toggle = el("input", { type: "checkbox", "data-testid": "toggle-cached" });
  toggle.checked = !entry;
  toggle.addEventListener("change", () => {
    for (const k of keys) toggle.checked ? cachedKeys.add(k) : cachedKeys.delete(k);
    update();
  });
  head.append(el("label", { class: "toggle", title: "Plan as if these frames were already in the cache" }, toggle, "in cache"));
  group.append(head);

  // What the extraction covers, then one lane per element.
  if (entry) {
    const u = entry.unit;
    const bar = el("div", {
      class: "bar unit-bar",
      style: `left:${x(u.startUs)};width:${x(framesToUs(u.frameCount, u.fps))}`,
      title: `${u.id}: ${u.frameCount} frames from ${seconds(u.startUs)} s`,
    }, `${u.id} · ${u.frameCount} frames`);
    group.append(el("div", { class: "lane unit-lane", "data-testid": "unit-lane", "data-unit": u.id },
      el("div", { class: "lane-label" }, "extracted"), el("div", { class: "track" }, bar)));
  }
  for (const index of indices) {
    const a = plan.assignments[index];
    const role = a.role.kind;
    const bar = el("div", {
      class: `bar role-${role}`,
      style: `left:${x(a.startUs)};width:${x(laneEnd(a) - a.startUs)}`,
      title: `${a.elementId}: ${roleText(a, plan)}\n${frameCount(a)} frames from ${seconds(a.startUs)} s${timelineText(a)}\ncache key ${a.cacheKey}`,
    }, barText(a));
    group.append(el("div", {
      class: `lane role-${role}`,
      "data-testid": "lane",
      "data-element-id": a.elementId,
      "data-src": elements[index].src,
      "data-unit": a.unit ?? "",
      "data-role": role,
      "data-leader": a.role.leader ?? "",
      "data-cache-hit": String(a.cacheHit),
      "data-cache-key": a.cacheKey,
      "data-offset": String(a.slice.offset),
      "data-count": String(a.slice.count),
      "data-start-us": String(a.startUs),
    }, el("div", { class: "lane-label", title: a.elementId }, el("b", {}, a.elementId), el("small", {}, roleText(a, plan))),
    el("div", { class: "track" }, bar)));
  }
  return group;
}

function barText(a) {
  switch (a.role.kind) {
    case "duplicate": return "= " + a.role.leader;
    case "cacheHit": return "✓ cached";
    default: return `${frameCount(a)} frames`;
  }
}

/** Frames in the element's directory: its slice, or more for a loop or held frames. */
function frameCount(a) {
  return a.frames ?? a.slice.count;
}

/** What a playback rate, a loop or held frames do to an element, for tooltips. */
function timelineText(a) {
  const parts = [];
  if (a.playbackRate) parts.push(`plays at ${a.playbackRate}`);
  if (a.cycle) parts.push(`loops a cycle of ${a.cycle.frames} frames`);
  if (a.held) parts.push(`${a.held.frames} frames hold the ${a.held.from === "trim" ? "trim's" : "source's"} last frame`);
  return parts.length ? "\n" + parts.join(", ") : "";
}

function roleText(a, plan) {
  switch (a.role.kind) {
    case "leader": {
      const unit = plan.units.find((u) => u.id === a.unit);
      return unit && unit.members.length > 1
        ? `leads ${a.unit}, takes frames ${a.slice.offset + 1}–${a.slice.offset + a.slice.count}`
        : `leads ${a.unit}`;
    }
    case "duplicate":
      return a.cacheHit ? `same frames as ${a.role.leader}, cached` : `same frames as ${a.role.leader}`;
    case "supersetMember":
      return `frames ${a.slice.offset + 1}–${a.slice.offset + a.slice.count} of ${a.unit}`;
    case "cacheHit":
      return "from the cache";
    default:
      return a.role.kind;
  }
}

function renderElements(composition, plan, details, parseError) {
  const body = $("elements").querySelector("tbody");
  body.replaceChildren();
  const elements = elementsOf(composition);
  const errorsOf = new Map();
  for (const d of details) {
    if (!errorsOf.has(d.index)) errorsOf.set(d.index, []);
    errorsOf.get(d.index).push(d);
  }
  elements.forEach((e, index) => {
    const a = plan?.assignments[index];
    const errors = errorsOf.get(index) ?? [];
    const broken = errors.length > 0 || parseError?.index === index;
    const cell = (value) => el("td", {}, value === undefined ? "" : String(value));
    const row = el("tr", {
      "data-testid": "element-row",
      "data-index": String(index),
      "data-element-id": String(e?.id ?? ""),
      class: broken ? "invalid" : null,
    },
    cell(index),
    el("td", {}, el("code", {}, String(e?.id ?? ""))),
    cell(e?.src),
    cell(typeof e?.mediaStart === "number" ? e.mediaStart + " s" : e?.mediaStart),
    cell(typeof e?.duration === "number" ? e.duration + " s" : e?.duration),
    cell(e?.fps),
    cell(e?.format),
    cell(a ? frameCount(a) : ""),
    a ? el("td", { style: a.unit ? `--c:${PALETTE[(plan.units.findIndex((u) => u.id === a.unit)) % PALETTE.length]}` : null },
      el("i", { class: "dot" + (a.unit ? "" : " cached") }), roleText(a, plan),
      el("small", { title: a.cacheKey }, " · key " + a.cacheKey.slice(0, 10) + "…"))
      : cell(broken ? "" : "—"));
    body.append(row);
    const messages = errors.map((d) => ({ field: d.field, message: d.message }));
    if (parseError?.index === index) messages.push({ field: "", message: parseError.message });
    for (const m of messages) {
      body.append(el("tr", {
        class: "error-row",
        "data-testid": "element-error",
        "data-index": String(index),
        "data-element-id": String(e?.id ?? ""),
        "data-field": m.field,
      }, el("td", {}, "⚠"), el("td", { colspan: "8" }, m.message)));
    }
  });
}

function showParseError(err) {
  const box = $("parse-error");
  box.textContent = err.message;
  box.hidden = false;
}

function showStatus(kind, text) {
  const status = $("status");
  status.className = "status " + kind;
  status.textContent = text;
}

function setState(state) {
  document.body.dataset.state = state;
}

// ---- Helpers -------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function hide(node) {
  node.hidden = true;
}

function tryParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function elementsOf(composition) {
  return Array.isArray(composition?.elements) ? composition.elements : [];
}

/** `elements[3].fps` → 3 */
function elementIndexOfPath(path) {
  const match = /^elements\[(\d+)\]/.exec(path ?? "");
  return match ? Number(match[1]) : null;
}

function basename(path) {
  return path.split(/[\\/]/).pop();
}

/** The end of an element's source range: start + count frame periods of its
 * source grid (fps / playbackRate). */
function laneEnd(a) {
  const [num, den] = (a.playbackRate ?? "1/1").split("/").map(Number);
  return a.startUs + (framesToUs(a.slice.count, a.fps) * num) / den;
}

function framesToUs(frames, fps) {
  const [num, den] = fps.split("/").map(Number);
  return (frames * den * US) / num;
}

function fpsText(fps) {
  const [num, den] = fps.split("/").map(Number);
  return den === 1 ? String(num) : (num / den).toFixed(3).replace(/0+$/, "");
}

/** An axis from 0 to a round number, with 4–10 ticks. */
function niceScale(endUs) {
  const end = Math.max(endUs, US / 10);
  const rough = end / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
  return { endUs: Math.ceil(end / step) * step, stepUs: step };
}

function seconds(us) {
  return String(Math.round(Number(us) / 1000) / 1000);
}

function count(n, noun) {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

function formatBytes(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KiB";
  return (bytes / 1024 / 1024).toFixed(1) + " MiB";
}

/** JSON.stringify that writes BigInts (a file's mtimeNs) as plain digits. */
function stringifyExact(value, indent) {
  return JSON.stringify(value, (k, v) => (typeof v === "bigint" ? `@@big:${v}` : v), indent)
    .replace(/"@@big:(-?\d+)"/g, "$1");
}

/** The example's layout: one element per line. */
function formatComposition(composition) {
  const { elements, ...rest } = composition;
  const lines = elements.map(
    (e) => "  { " + Object.entries(e).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ") + " }",
  );
  const extra = Object.keys(rest).length ? JSON.stringify(rest).slice(1, -1) + ", " : "";
  return `{ ${extra}"elements": [\n${lines.join(",\n")}\n] }\n`;
}

function readStorage() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function writeStorage(text) {
  try {
    localStorage.setItem(STORAGE_KEY, text);
  } catch {
    // Private mode or storage disabled: the page works without it.
  }
}
