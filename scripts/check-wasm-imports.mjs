#!/usr/bin/env node
// Checks that WebAssembly modules import nothing but wasm-bindgen's own glue.
//
// framex-core is pure: no I/O, no clock, no randomness. A dependency that
// reaches for the host (a C library, `extern "C"` functions, getrandom without
// a JS backend) shows up as an import from `env` or another foreign module; such
// a module must fail the build. Allowed:
//   - the raw cargo output: modules `__wbindgen_placeholder__` and
//     `__wbindgen_externref_xform__`;
//   - wasm-bindgen's output: module `./<name>_bg.js` (or `wbg`);
// and in both only functions named `__wbg_*` or `__wbindgen_*`.
//
// Usage: node scripts/check-wasm-imports.mjs FILE.wasm...
import { readFileSync } from "node:fs";

const GLUE_MODULES = [/^__wbindgen_placeholder__$/, /^__wbindgen_externref_xform__$/, /^\.\/[\w.-]+_bg\.js$/, /^wbg$/];
const GLUE_NAMES = /^__(wbg|wbindgen)_/;

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/check-wasm-imports.mjs FILE.wasm...");
  process.exit(2);
}
let failed = false;
for (const file of files) {
  let imports;
  try {
    imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(file)));
  } catch (err) {
    console.error(`check-wasm-imports: ${file}: cannot read a WebAssembly module: ${err.message}`);
    failed = true;
    continue;
  }
  const foreign = imports.filter(
    (i) => i.kind !== "function" || !GLUE_MODULES.some((m) => m.test(i.module)) || !GLUE_NAMES.test(i.name),
  );
  if (foreign.length > 0) {
    failed = true;
    console.error(`check-wasm-imports: ${file} imports ${foreign.length} thing(s) from outside wasm-bindgen's glue:`);
    for (const i of foreign) console.error(`  ${i.module} :: ${i.name} (${i.kind})`);
    console.error("  framex-core and framex-wasm must not depend on the host: find the dependency that added these.");
  } else {
    console.log(`check-wasm-imports: ${file}: ${imports.length} imports, all wasm-bindgen glue`);
  }
}
process.exit(failed ? 1 : 0);
