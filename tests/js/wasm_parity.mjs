// Runs request files through the wasm build of framex (the `--target nodejs`
// package), both ways JavaScript can call it, and prints one JSON line per
// file for tests/tests/wasm_parity/ to compare with the native planner:
//
//   {"file": ..., "json": RESULT, "object": RESULT, "elements": [RESULT, ...]}
//   RESULT = {"ok": "<result as JSON text>"}
//          | {"error": {name, message, kind, path, reason, line, column, elementId, field, index, errors}}
//          | {"syntaxError": "<JSON.parse's message>"}  (object path only)
//
// "json":     planJson(text), the text as it is;
// "object":   plan(object), the text parsed into a JS object with integers
//             beyond 2^53 read as BigInt, and the plan written back with
//             BigInts as plain digits, so nothing is rounded on the way;
// "elements": when the object path planned, elementFrames({element, source})
//             of every element with its source's facts from the request.
//
// Usage: node tests/js/wasm_parity.mjs PKG_DIR FILE.json...
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const [pkgDir, ...files] = process.argv.slice(2);
const wasm = createRequire(import.meta.url)(resolve(pkgDir, "framex_wasm.js"));

/** JSON.parse, but integer literals that a number cannot hold exactly become BigInts. */
export function parseExact(text) {
  // Tokens are strings (left alone) or numbers; mark unsafe integers.
  const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (token) =>
    /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token)) ? `"@@big:${token}"` : token,
  );
  return JSON.parse(marked, (key, value) =>
    typeof value === "string" && value.startsWith("@@big:") ? BigInt(value.slice(6)) : value,
  );
}

/** JSON.stringify, writing BigInts as plain digits. */
export function stringifyExact(value) {
  return JSON.stringify(value, (key, v) => (typeof v === "bigint" ? `@@big:${v}` : v)).replace(
    /"@@big:(-?\d+)"/g,
    "$1",
  );
}

function describe(err) {
  const keys = ["name", "message", "kind", "path", "reason", "line", "column", "elementId", "field", "index", "errors"];
  return Object.fromEntries(keys.filter((k) => err[k] !== undefined).map((k) => [k, err[k]]));
}

function run(call) {
  try {
    return { ok: call() };
  } catch (err) {
    return { error: describe(err) };
  }
}

for (const file of files) {
  const text = readFileSync(file, "utf8");
  const json = run(() => wasm.planJson(text));
  let object;
  let parsed;
  try {
    parsed = parseExact(text);
  } catch (err) {
    object = { syntaxError: err.message };
  }
  object ??= run(() => stringifyExact(wasm.plan(parsed)));
  const elements = object.ok === undefined ? [] : parsed.composition.elements.map((element) => {
    const source = parsed.sources?.[element.src];
    return run(() => stringifyExact(wasm.elementFrames(source === undefined ? { element } : { element, source })));
  });
  console.log(JSON.stringify({ file, json, object, elements }));
}
