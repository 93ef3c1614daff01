// Calls every function of framex-wasm with typed values, the way a
// TypeScript caller would: `tsc` must accept each line, and refuse each line
// under `@ts-expect-error` (so the types are neither missing nor `any`).
// Type-checked only (tsc --noEmit): the behaviour is tested by
// wasm/tests/api and tests/tests/wasm_parity.rs.
import {
  elementFrames,
  frameKey,
  plan,
  planJson,
  recipeKey,
  validate,
  version,
  type Composition,
  type DecodeRun,
  type ElementFrames,
  type ElementPlan,
  type ErrorDetail,
  type FramexError,
  type Plan,
  type Request,
  type Role,
  type SourceFacts,
} from "../../pkg/node/framex_wasm.js";

const composition: Composition = {
  elements: [
    { id: "bg", src: "loop.mp4", mediaStart: 0, duration: 4, fps: 30, format: "png" },
    { id: "fast", src: "loop.mp4", mediaStart: 0, duration: 2, fps: 60, playbackRate: 2, format: "png" },
    { id: "card", src: "logo.webm", mediaStart: 0, duration: 2, mediaDuration: 0.5, loop: true, fps: "30000/1001", format: "png" },
  ],
};
const facts: SourceFacts = {
  identity: { kind: "file", path: "logo.webm", size: 1024, mtimeNs: 1_700_000_000_000_000_000n },
  alpha: true,
  frameRate: "30",
  durationUs: 2_000_000,
};
const request: Request = {
  composition,
  sources: { "logo.webm": facts },
  cachedFrames: { ["0".repeat(64)]: [0, 1, 2n] },
  options: { seekCostFrames: 24 },
};

const p: Plan = plan(request);
const requested: number = p.totals.framesRequested;
const distinct: number = p.totals.distinctFrames;
const toMake: number = p.totals.framesToMake;
const runs: DecodeRun[] = p.sources.flatMap((s) => s.recipes.flatMap((r) => r.runs));
const make: string = runs[0]?.make ?? "";
const first: ElementPlan | undefined = p.elements[0];

function describe(role: Role): string {
  switch (role.kind) {
    case "leader":
      return "leads";
    case "duplicate":
      return `same frames as ${role.of}`;
    case "shares":
      return `frames of ${role.run}, led by ${role.leader}`;
    case "cacheHit":
      return "cached";
  }
}
const roles: string[] = p.elements.map((e) => describe(e.role));
const shown: number[] = (first?.frames ?? []).map((run) => run.frame + run.ticks);
const text: string = planJson(JSON.stringify(request, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

const errors: ErrorDetail[] = validate(composition, request.sources);
const fromText: ErrorDetail[] = validate('{"elements": []}');
const fields: string[] = errors.map((e) => `${e.index}:${e.elementId}:${e.field}:${e.message}`);

const frames: ElementFrames = elementFrames({ element: composition.elements[2]!, source: facts });
const recipe: string = recipeKey({ identity: facts.identity, timeBase: frames.timeBase, recipe: { format: "png", alpha: true } });
const keys: string[] = [frameKey(recipe, 0), frameKey(recipe, 2n ** 60n), frames.elementKey, version()];

try {
  plan({ composition: { elements: [] } });
} catch (e) {
  const error = e as FramexError;
  const where: string = `${error.kind} ${error.path ?? ""} ${error.reason ?? ""} ${error.line ?? 0}:${error.column ?? 0}`;
  const all: ErrorDetail[] = error.errors;
  void where, all;
}

// @ts-expect-error: a misspelt field.
const misspelt: Composition = { elements: [{ id: "a", src: "x", mediaStart: 0, durration: 1, fps: 30, format: "png" }] };
// @ts-expect-error: the old cache field is gone.
const old: Request = { composition, cachedKeys: [] };
// @ts-expect-error: a frame rate in source facts is text.
const rateAsNumber: SourceFacts = { identity: { kind: "name", name: "x" }, frameRate: 30 };
// @ts-expect-error: totals are counted in frames; there are no units any more.
const units: number = p.totals.units;
// @ts-expect-error: `duplicate` names the element it copies in `of`.
const leader: string = p.elements[0]?.role.kind === "duplicate" ? p.elements[0].role.leader : "";
// @ts-expect-error: pts is an integer (number or bigint), not text.
frameKey(recipe, "0");

void [requested, distinct, toMake, make, roles, shown, text, fromText, fields, keys, misspelt, old, rateAsNumber, units, leader];
