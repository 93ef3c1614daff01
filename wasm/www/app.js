// The framex preview page: plans a composition with framex-core compiled to
// WebAssembly (./pkg, written by scripts/build-wasm.sh) and draws, per source,
// which frames each element shows and which decode run makes them. No
// framework, no bundler.
//
// Frames are numbered from 1 wherever a person reads them, as the files are
// named (frame_000001.png): the plan's 0-based source frame index i is
// "frame i+1".
//
// For tests, <body> carries data-state ("loading", "planned", "invalid",
// "error") and data-updates (a counter bumped after every render); the DOM
// carries data-testid attributes and the request in <pre data-testid=request>.

const STORAGE_KEY = "framex-preview:composition";
const RATES_KEY = "framex-preview:rates";
const PALETTE = ["#3b6cf6", "#e8833a", "#20a37f", "#b650d6", "#d9424b", "#0f9fb5", "#a5780f", "#5f5ce6"];
const DEFAULT_RATE = "30";
const US = 1_000_000;

const $ = (id) => document.getElementById(id);
const textarea = $("composition");

let framex = null; // the wasm module, once loaded
const dropped = new Map(); // file name → { name, size, lastModified, durationUs }
const rates = new Map(readRates()); // src → the frame rate the person set, as typed
const cached = new Map(); // recipe key → Set of frame times (ticks) marked as already stored
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
  $("seek-cost").addEventListener("input", () => schedule());
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

  const saved = readStorage(STORAGE_KEY);
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
  cached.clear();
  update();
}

let timer = 0;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(update, 200);
}

// ---- Checking and planning -----------------------------------------------------

function update() {
  clearTimeout(timer);
  const text = textarea.value;
  writeStorage(STORAGE_KEY, text);
  hide($("parse-error"));
  $("request").textContent = "";

  // 1. Not JSON at all: nothing else can be known.
  let composition;
  try {
    composition = JSON.parse(text);
  } catch {
    let message = "";
    try {
      framex.validate(text); // the native parser's words, with line and column
    } catch (err) {
      message = err.message;
    }
    showParseError(message);
    render({ composition: null, problems: [] });
    setState("invalid");
    showStatus("invalid", "The composition is not well-formed JSON: see the message under the editor.");
    return;
  }
  const sources = sourceFacts(composition);
  renderSources(composition);

  // 2. Every problem at once: fields the planner does not know or of the
  // wrong type (per element), and values out of range.
  const check = checkComposition(text, composition, sources);
  for (const input of document.querySelectorAll('[data-testid="source-rate"]')) {
    input.classList.toggle("bad", input.dataset.src === check.badSource);
  }
  if (check.sourceError) {
    render({ composition, problems: [] });
    setState("invalid");
    showStatus("invalid", check.sourceError);
    return;
  }
  if (check.problems.length > 0 || check.shapeError) {
    render({ composition, problems: check.problems });
    setState("invalid");
    const n = check.problems.length;
    const where = n > 0 ? "each is shown under its element below" : "see the message under the editor";
    const what = check.shapeError && n === 0
      ? "The composition is well-formed JSON, but not of the shape the planner reads"
      : `${n} problem${n === 1 ? "" : "s"} to fix before anything can be planned`;
    showStatus("invalid", `${what}: ${where}.`);
    return;
  }

  // 3. Plan.
  const request = { composition, sources, cachedFrames: cachedFrames(), options: { seekCostFrames: seekCost() } };
  $("request").textContent = stringifyExact(request, 2);
  let plan;
  const started = performance.now();
  try {
    plan = framex.plan(request);
  } catch (err) {
    render({ composition, problems: err.errors ?? [] });
    setState("error");
    showStatus("error", err.message);
    return;
  }
  const ms = performance.now() - started;
  render({ composition, problems: [], plan, request });
  setState("planned");
  const t = plan.totals;
  showStatus("planned", `Planned in ${ms < 1 ? "under 1" : ms.toFixed(0)} ms: ${count(t.elements, "element")} ` +
    `show ${count(t.framesRequested, "frame")}, ${count(t.distinctFrames, "distinct source frame")}; ` +
    `${count(t.framesToMake, "frame")} to encode in ${count(t.decodeRuns, "decode run")}.`);
}

/**
 * Every problem of a composition that is JSON: `problems` lists, per
 * element, a field of the wrong shape (a misspelt name, a value of the wrong
 * type) and every value the planner refuses, as the CLI lists them.
 * `shapeError` is the native parser's first complaint (with line and column),
 * shown under the editor; `sourceError` a source fact the planner refuses.
 */
function checkComposition(text, composition, sources) {
  let shapeError = null;
  try {
    const details = framex.validate(text, sources);
    return { problems: details, shapeError };
  } catch (err) {
    if (err.kind !== "parse") return { problems: err.errors ?? [], shapeError };
    if (err.line === undefined) {
      // Not the text: the source facts the page made from what was typed.
      const src = (err.path ?? "").replace(/\.frameRate$/, "");
      return { problems: [], shapeError, sourceError: `The frame rate of ${src} is not a frame rate: ${err.reason ?? err.message}`, badSource: src };
    }
    shapeError = err;
    showParseError(err.message);
  }
  const elements = elementsOf(composition);
  if (elements === null) return { problems: [], shapeError };

  // The parser stops at the first problem: read each element on its own to
  // find every element of the wrong shape.
  const problems = [];
  const broken = new Set();
  elements.forEach((element, index) => {
    try {
      framex.validate({ elements: [element] });
    } catch (err) {
      if (err.kind !== "parse") return;
      broken.add(index);
      const path = (err.path ?? "").replace(/^elements\[0\]/, `elements[${index}]`);
      const field = /^elements\[\d+\]\.(\w+)/.exec(path)?.[1] ?? "";
      const id = typeof element?.id === "string" ? element.id : "";
      problems.push({ index, elementId: id, field, message: `${path}: ${err.reason ?? err.message}` });
    }
  });
  // The values of the rest, each element of the wrong shape standing in by
  // its id (so that duplicate ids are still found) and plain values.
  const stand = elements.map((element, index) =>
    broken.has(index)
      ? { id: typeof element?.id === "string" ? element.id : `\u0000${index}`, src: "x", mediaStart: 0, duration: 1, fps: 30, format: "png" }
      : element,
  );
  try {
    for (const d of framex.validate({ elements: stand }, sources)) {
      const idOfStandIn = broken.has(d.index) && (d.field !== "id" || typeof elements[d.index]?.id !== "string");
      if (!idOfStandIn) problems.push(d);
    }
  } catch {
    // A problem outside the elements: the message under the editor says it.
  }
  problems.sort((a, b) => a.index - b.index);
  return { problems, shapeError };
}

function seekCost() {
  const value = Number($("seek-cost").value);
  return Number.isInteger(value) && value >= 0 ? value : 24;
}

/** Per recipe key, the frame times marked as cached, ascending. */
function cachedFrames() {
  const out = {};
  for (const key of [...cached.keys()].sort()) {
    const times = [...cached.get(key)].sort((a, b) => a - b);
    if (times.length > 0) out[key] = times;
  }
  return out;
}

/**
 * Facts for every src the page knows more of than its name at 30 fps: a
 * dropped file whose name matches (by base name), or a frame rate set.
 */
function sourceFacts(composition) {
  const sources = {};
  for (const src of sourcesOf(composition)) {
    const file = dropped.get(basename(src));
    const rate = rates.get(src);
    if (!file && (rate === undefined || rate === DEFAULT_RATE)) continue;
    sources[src] = {
      // A file as the browser knows it: its name as written, size and
      // modification time. Any change to the file changes its identity.
      identity: file
        ? { kind: "file", path: src, size: file.size, mtimeNs: BigInt(file.lastModified) * 1_000_000n }
        : { kind: "name", name: src },
      frameRate: rate ?? DEFAULT_RATE,
      ...(file && file.durationUs !== null ? { durationUs: file.durationUs } : {}),
    };
  }
  return sources;
}

// ---- Sources and dropped files -------------------------------------------------

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

let sourcesShown = "";

/**
 * One row per source of the composition (and per dropped file): what is
 * known, and its frame rate. Rebuilt only when the sources change, so that
 * typing a rate keeps its field.
 */
function renderSources(composition) {
  const names = sourcesOf(composition);
  for (const file of dropped.values()) {
    if (!names.some((src) => basename(src) === file.name)) names.push(file.name);
  }
  const shown = JSON.stringify([names, [...dropped.values()]]);
  if (shown === sourcesShown) return;
  sourcesShown = shown;
  const list = $("sources");
  list.replaceChildren();
  for (const src of names) {
    const file = dropped.get(basename(src));
    const item = el("li", { "data-testid": file ? "source-file" : "source-name", "data-src": src, "data-name": basename(src) });
    const about = file
      ? [formatBytes(file.size), "modified " + new Date(file.lastModified).toISOString().slice(0, 16).replace("T", " "),
         file.durationUs === null ? "duration unknown (the browser cannot read this file)" : seconds(file.durationUs) + " s"]
      : ["known by name only: drop the file to add its duration"];
    const rate = el("input", {
      type: "text", inputmode: "decimal", size: "8", value: rates.get(src) ?? DEFAULT_RATE,
      "data-testid": "source-rate", "data-src": src, "aria-label": `Frame rate of ${src}`,
    });
    rate.addEventListener("input", () => {
      const value = rate.value.trim();
      if (value === "" || value === DEFAULT_RATE) rates.delete(src);
      else rates.set(src, value);
      writeStorage(RATES_KEY, JSON.stringify([...rates]));
      schedule();
    });
    item.append(
      el("code", { class: "src" }, src),
      el("span", { class: "about" }, about.join(" · ")),
      el("label", { class: "rate" }, rate, " fps"),
    );
    if (file) {
      const remove = el("button", { type: "button", title: "Forget this file", "aria-label": "Forget " + file.name }, "×");
      remove.addEventListener("click", () => {
        dropped.delete(file.name);
        update();
      });
      item.append(remove);
    }
    list.append(item);
  }
}

// ---- Rendering -----------------------------------------------------------------

function render({ composition, problems, plan = null }) {
  renderTotals(plan);
  renderTimelines(plan, composition);
  renderElements(composition, plan, problems);
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
    "total-frames-requested": t.framesRequested,
    "total-distinct-frames": t.distinctFrames,
    "total-dedupe-hits": t.dedupeHits,
    "total-cache-hits": t.cacheHits,
    "total-frames-to-make": t.framesToMake,
    "total-frames-saved": t.framesSaved,
    "total-percent-saved": percent,
    "total-duplicates": t.duplicates,
    "total-decode-runs": t.decodeRuns,
    "total-frames-to-decode": t.framesToDecode,
  };
  for (const [id, value] of Object.entries(values)) {
    const node = box.querySelector(`[data-testid="${id}"]`);
    node.dataset.value = String(value);
    node.textContent = id === "total-percent-saved" ? `${value}%` : value.toLocaleString("en-US");
  }
  box.hidden = false;
}

/**
 * One section per source. In it, per recipe (format, alpha, transfer): a lane
 * of the decode runs, then one lane per element showing the source frames it
 * shows, coloured by the run that makes each (grey: cached).
 */
function renderTimelines(plan, composition) {
  const root = $("timelines");
  root.replaceChildren();
  if (!plan) return;
  const elements = elementsOf(composition) ?? [];
  const shown = plan.elements.map((e) => distinctFrames(e));

  for (const source of plan.sources) {
    const members = plan.elements.map((e, i) => i).filter((i) => plan.elements[i].source === source.id);
    const recipes = source.recipes.map((recipe) => ({ recipe, runs: recipe.runs.map(parseRun) }));
    // The scale: every frame drawn, and the source's end when known.
    let endFrame = source.frames ?? 1;
    for (const { runs } of recipes) for (const run of runs) endFrame = Math.max(endFrame, run.last + 1);
    for (const i of members) endFrame = Math.max(endFrame, (shown[i].at(-1) ?? 0) + 1);
    const axis = frameAxis(source, endFrame);
    const x = (frame) => `${((frame / axis.endFrame) * 100).toFixed(3)}%`;
    const w = (frames) => `${((frames / axis.endFrame) * 100).toFixed(3)}%`;

    const section = el("section", { class: "source", "data-testid": "source", "data-source-id": source.id, "data-src": source.src });
    const file = dropped.get(basename(source.src));
    const facts = [
      source.assumedRate ? `assumed ${fpsText(source.assumedRate)} fps` : "probed",
      source.frames !== undefined ? `${count(source.frames, "frame")}` : "length unknown",
      ...(file ? [formatBytes(file.size)] : []),
    ];
    section.append(el("h3", {}, el("code", { class: "src" }, source.src), el("small", {}, facts.join(" · "))));

    const ticks = el("div", { class: "track" });
    if (source.frames !== undefined) ticks.append(el("div", { class: "clip-extent", style: `width:${w(source.frames)}` }));
    axis.ticks.forEach((tick, n) => {
      const last = n === axis.ticks.length - 1 && n > 0;
      ticks.append(el("span", { class: "tick" + (n === 0 ? " first" : last ? " last" : ""), style: `left:${x(tick.frame)}` }, tick.label));
    });
    section.append(el("div", { class: "lane axis" }, el("div", { class: "lane-label" }, axis.title), ticks));

    for (const { recipe, runs } of recipes) {
      const group = el("div", { class: "recipe", "data-testid": "recipe", "data-recipe": recipe.key });
      group.append(recipeHead(recipe, runs));
      // The decode runs: what each decodes (light) and makes (solid).
      const track = el("div", { class: "track" });
      for (const run of runs) {
        const bar = el("div", {
          class: "run-bar", style: `--c:${runColour(run.id)};left:${x(run.keyframe)};width:${w(run.last - run.keyframe + 1)}`,
          "data-testid": "run", "data-run": run.id, "data-keyframe": String(run.keyframe), "data-last": String(run.last),
          "data-make": run.make, "data-leader": run.leader,
          title: `${run.id}, led by ${run.leader}: decodes frames ${run.keyframe + 1}–${run.last + 1}, ` +
            `makes ${count(run.count, "frame")} (${indexRunsText(run.make)})`,
        });
        for (const [first, last] of segments(run.frames, () => run.id, axis.endFrame)) {
          bar.append(el("i", { class: "made", style: `left:${pct(first - run.keyframe, run.last - run.keyframe + 1)};width:${pct(last - first + 1, run.last - run.keyframe + 1)}` }));
        }
        track.append(bar);
      }
      if (runs.length === 0) track.append(el("span", { class: "track-note" }, "nothing to decode: every frame is cached"));
      group.append(el("div", { class: "lane run-lane", "data-testid": "decode-lane" }, el("div", { class: "lane-label" }, "decode runs"), track));

      for (const i of members) {
        const e = plan.elements[i];
        if (e.recipe !== recipe.key) continue;
        group.append(elementLane(e, elements[i], shown[i], runs, x, w, axis.endFrame));
      }
      section.append(group);
    }
    root.append(section);
  }
}

function recipeHead(recipe, runs) {
  const head = el("div", { class: "recipe-head" });
  const what = [recipe.format.toUpperCase() + (recipe.alpha ? " with alpha" : "") + (recipe.transfer ? `, ${recipe.transfer}` : ""),
    count(recipe.distinctFrames, "distinct frame")];
  head.append(el("span", { class: "recipe-name" }, what.join(" · ")));
  for (const run of runs) {
    const toggle = el("input", { type: "checkbox", "data-testid": "toggle-cached", "data-run": run.id });
    toggle.addEventListener("change", () => {
      if (!cached.has(recipe.key)) cached.set(recipe.key, new Set());
      for (const f of run.frames) cached.get(recipe.key).add(f);
      update();
    });
    head.append(el("label", { class: "run-chip", style: `--c:${runColour(run.id)}`, title: "Plan as if this run's frames were already in the cache" },
      el("b", {}, run.id), ` ${count(run.count, "frame")} · `, toggle, " in cache"));
  }
  if (recipe.cacheHits > 0) {
    const forget = el("button", { type: "button", "data-testid": "forget-cached" }, "forget");
    forget.addEventListener("click", () => {
      cached.delete(recipe.key);
      update();
    });
    head.append(el("span", { class: "run-chip cached" }, `✓ ${count(recipe.cacheHits, "frame")} cached `, forget));
  }
  return head;
}

function elementLane(e, input, frames, runs, x, w, endFrame) {
  const role = e.role.kind;
  const owner = (f) => runs.find((r) => r.has(f))?.id ?? "cache";
  const track = el("div", { class: "track" });
  for (const [first, last, who] of segments(frames, owner, endFrame)) {
    track.append(el("div", {
      class: `bar role-${role}` + (who === "cache" ? " cached" : ""),
      style: `--c:${who === "cache" ? "var(--cached)" : runColour(who)};left:${x(first)};width:${w(last - first + 1)}`,
      title: `${e.elementId}: frames ${first + 1}–${last + 1}` + (who === "cache" ? " (cached)" : ` (made by ${who})`),
    }));
  }
  if (role === "duplicate") {
    // Anchored where the frames are, on the side with room for it.
    const start = frames[0] ?? 0;
    const side = start / endFrame < 0.6 ? `left:${x(start)}` : `right:${w(endFrame - (frames.at(-1) ?? 0) - 1)}`;
    track.append(el("span", { class: "dup-label", "data-testid": "duplicate-label", style: side }, "= " + e.role.of));
  }
  return el("div", {
    class: `lane role-${role}`,
    "data-testid": "lane",
    "data-element-id": e.elementId,
    "data-src": String(input?.src ?? ""),
    "data-source": e.source,
    "data-recipe": e.recipe,
    "data-role": role,
    "data-of": e.role.of ?? "",
    "data-run": e.role.run ?? "",
    "data-leader": e.role.leader ?? "",
    "data-runs": (e.runs ?? []).join(","),
    "data-ticks": String(e.ticks),
    "data-distinct": String(e.distinctFrames),
    "data-cache-hits": String(e.cacheHits),
    "data-frames": JSON.stringify(e.frames),
    "data-start-us": String(e.startUs),
  },
  el("div", { class: "lane-label", title: `${e.elementId}: ${roleText(e)}` }, el("b", {}, e.elementId), el("small", {}, roleText(e))),
  track);
}

/** How an element gets its frames, for a person; source frames numbered from 1. */
function roleText(e) {
  const runs = e.runs ?? [];
  const cachedPart = e.cacheHits > 0 && e.role.kind !== "cacheHit" ? `, ${count(e.cacheHits, "frame")} cached` : "";
  switch (e.role.kind) {
    case "leader":
      return `decodes ${runs.join(", ")}${cachedPart}`;
    case "duplicate":
      return `the same frames as ${e.role.of}`;
    case "shares": {
      const more = runs.length > 1 ? ` (and ${runs.slice(1).join(", ")})` : "";
      return `frames of ${e.role.run}, led by ${e.role.leader}${more}${cachedPart}`;
    }
    case "cacheHit":
      return "every frame from the cache";
    default:
      return e.role.kind;
  }
}

/** What an element's slot is: start, length, rate, and what changes its frames. */
function slotText(input, e) {
  if (!input || typeof input !== "object") return "";
  const parts = [`${input.mediaStart} s + ${input.duration} s`, `${e ? fpsText(e.fps) : String(input.fps)} fps`];
  if (input.playbackRate !== undefined && input.playbackRate !== null) parts.push(`×${input.playbackRate} speed`);
  if (input.mediaDuration !== undefined && input.mediaDuration !== null) parts.push(`${input.loop ? "loops" : "trims to"} ${input.mediaDuration} s`);
  else if (input.loop) parts.push("loops");
  parts.push(String(input.format ?? ""));
  return parts.join(" · ");
}

function renderElements(composition, plan, problems) {
  const body = $("elements").querySelector("tbody");
  body.replaceChildren();
  const elements = elementsOf(composition) ?? [];
  const problemsOf = new Map();
  for (const d of problems) {
    if (!problemsOf.has(d.index)) problemsOf.set(d.index, []);
    problemsOf.get(d.index).push(d);
  }
  elements.forEach((input, index) => {
    const e = plan?.elements[index];
    const errors = problemsOf.get(index) ?? [];
    const id = typeof input?.id === "string" ? input.id : JSON.stringify(input?.id ?? null);
    let from = el("td", { "data-testid": "role-cell" }, errors.length > 0 ? "" : "—");
    if (e) {
      const colour = e.runs?.length ? runColour(e.runs[0]) : "var(--cached)";
      const frames = distinctFrames(e);
      from = el("td", { "data-testid": "role-cell", style: `--c:${colour}` },
        el("i", { class: "dot" }), roleText(e),
        el("small", { title: `recipe key ${e.recipe}` }, ` · source frames ${rangeText(frames)}`));
    }
    body.append(el("tr", {
      "data-testid": "element-row",
      "data-index": String(index),
      "data-element-id": id,
      class: errors.length > 0 ? "invalid" : null,
    },
    el("td", {}, String(index)),
    el("td", {}, el("code", {}, id), el("small", {}, String(input?.src ?? ""))),
    el("td", {}, slotText(input, e)),
    el("td", {}, e ? `${e.ticks.toLocaleString("en-US")} → ${e.distinctFrames.toLocaleString("en-US")}` : ""),
    from));
    for (const d of errors) {
      body.append(el("tr", {
        class: "error-row",
        "data-testid": "element-error",
        "data-index": String(index),
        "data-element-id": d.elementId,
        "data-field": d.field,
      }, el("td", {}, "⚠"), el("td", { colspan: "4" }, d.message)));
    }
  });
  const header = $("elements").querySelector("thead th:nth-child(4)");
  header.title = "ticks (files in the element's directory) → distinct source frames they show";
}

function showParseError(message) {
  const box = $("parse-error");
  box.textContent = message;
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

// ---- Frames ----------------------------------------------------------------------

/** The distinct source frames (0-based indices) an element shows, ascending. */
function distinctFrames(e) {
  const seen = new Set();
  for (const run of e.frames) {
    const [num, den] = ratio(run.step);
    const phase = run.phase ?? 0;
    for (let i = 0; i < run.ticks; i++) seen.add(run.frame + Math.floor((i * num + phase) / den));
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * A decode run with its frames to make expanded and a membership test. The
 * page's sources are assumed constant-rate grids, on which a frame's time
 * (what the cache is keyed by) is its index: marking a run cached adds
 * `frames` as times.
 */
function parseRun(run) {
  const progressions = parseIndexRuns(run.make);
  const frames = progressions.flatMap(([first, last, step]) => {
    const out = [];
    for (let f = first; f <= last; f += step) out.push(f);
    return out;
  });
  const has = (f) => f >= run.keyframe && f <= run.last &&
    progressions.some(([first, last, step]) => f >= first && f <= last && (f - first) % step === 0);
  return { ...run, frames, count: frames.length, has };
}

/** `"0-6/2,7-9,20"` → `[[0, 6, 2], [7, 9, 1], [20, 20, 1]]`. */
function parseIndexRuns(text) {
  return text.split(",").filter(Boolean).map((item) => {
    const [range, step = "1"] = item.split("/");
    const [first, last = first] = range.split("-").map(Number);
    return [Number(first), Number(last), Number(step)];
  });
}

/** The make list as a person reads it: numbered from 1. */
function indexRunsText(text) {
  return parseIndexRuns(text).map(([first, last, step]) =>
    first === last ? `${first + 1}` : `${first + 1}–${last + 1}${step > 1 ? ` every ${step}` : ""}`).join(", ");
}

/** `frames 1–120`, for ascending 0-based indices. */
function rangeText(frames) {
  if (frames.length === 0) return "none";
  return frames.length === 1 ? `${frames[0] + 1}` : `${frames[0] + 1}–${frames.at(-1) + 1}`;
}

/**
 * Ascending frames grouped into `[first, last, owner]` spans for drawing:
 * neighbours with one owner join when the gap between them is too small to
 * see (a 24 fps element on a 30 fps source skips every fifth frame).
 */
function segments(frames, ownerOf, endFrame) {
  const gap = Math.max(2, Math.ceil(endFrame / 400));
  const out = [];
  for (const f of frames) {
    const who = ownerOf(f);
    const open = out.at(-1);
    if (open && open[2] === who && f - open[1] <= gap) open[1] = f;
    else out.push([f, f, who]);
  }
  return out;
}

/** The axis under a source: seconds on an assumed rate, else frame numbers. */
function frameAxis(source, frames) {
  if (source.assumedRate) {
    const [num, den] = ratio(source.assumedRate);
    const endSeconds = Math.max(frames * den / num, 0.1);
    const step = niceStep(endSeconds);
    const end = Math.ceil(endSeconds / step - 1e-9) * step;
    const ticks = [];
    for (let n = 0; n * step <= end + 1e-9; n++) ticks.push({ frame: n * step * num / den, label: `${round(n * step)} s` });
    return { endFrame: end * num / den, ticks, title: "source time" };
  }
  const step = niceStep(frames);
  const end = Math.ceil(frames / step) * step;
  const ticks = [];
  for (let f = 0; f <= end; f += step) ticks.push({ frame: f, label: `frame ${f + 1}` });
  return { endFrame: end, ticks, title: "source frame" };
}

/** A round step that cuts `end` into 4–10 parts. */
function niceStep(end) {
  const rough = end / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
}

function runColour(id) {
  const n = Number(String(id).slice(1)) || 1;
  return PALETTE[(n - 1) % PALETTE.length];
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

/** The elements, or null when the composition has no list of them. */
function elementsOf(composition) {
  return Array.isArray(composition?.elements) ? composition.elements : null;
}

/** Each distinct `src` of the composition, in order of first use. */
function sourcesOf(composition) {
  const srcs = (elementsOf(composition) ?? []).map((e) => e?.src).filter((s) => typeof s === "string" && s !== "");
  return [...new Set(srcs)];
}

function basename(path) {
  return path.split(/[\\/]/).pop();
}

function ratio(text) {
  const [num, den = "1"] = String(text).split("/");
  return [Number(num), Number(den)];
}

function fpsText(fps) {
  const [num, den] = ratio(fps);
  return den === 1 ? String(num) : String(Math.round((num / den) * 1000) / 1000);
}

function pct(part, whole) {
  return `${((part / whole) * 100).toFixed(3)}%`;
}

function round(value) {
  return Math.round(value * 1000) / 1000;
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

function readRates() {
  try {
    const entries = JSON.parse(readStorage(RATES_KEY) ?? "[]");
    return Array.isArray(entries) ? entries.filter((e) => Array.isArray(e) && e.length === 2) : [];
  } catch {
    return [];
  }
}

function readStorage(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key, text) {
  try {
    localStorage.setItem(key, text);
  } catch {
    // Private mode or storage disabled: the page works without it.
  }
}
