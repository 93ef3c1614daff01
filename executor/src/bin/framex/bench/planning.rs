//! Planning speed: framex_core natively, and `planJson` in node's
//! WebAssembly when the wasm package is built.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use framex_core::{plan, Composition, Request};
use serde::Serialize;
use serde_json::json;

use super::stats::Figure;

/// Element counts planned.
pub const SIZES: [u64; 2] = [10_000, 100_000];

/// `planJson` against the native parse + plan + serialize of the same text.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanJsonTimes {
    /// framex_core natively: parse, plan, serialize, µs.
    pub native_us: Figure,
    /// `planJson` of the node package, µs.
    pub wasm_us: Figure,
}

/// Times planning `n` elements (the request already parsed), µs.
pub fn plan_time_us(n: u64, repeat: usize) -> Figure {
    let request = plan_request(n);
    let mut times = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let plan = plan(&request).expect("the bench's request plans");
        times.push(t.elapsed());
        std::hint::black_box(plan);
    }
    Figure::us(&times)
}

/// The node script: plans the request file `repeat` times with `planJson`
/// and prints every time in microseconds, as JSON.
const WASM_PLAN_SCRIPT: &str = r#"
const [pkg, file, repeat] = process.argv.slice(2);
const { planJson } = require(pkg);
const text = require("fs").readFileSync(file, "utf8");
planJson(text); // warm up: compile and grow memory once
const times = [];
for (let i = 0; i < Number(repeat); i++) {
  const t = process.hrtime.bigint();
  planJson(text);
  times.push(Number(process.hrtime.bigint() - t) / 1000);
}
console.log(JSON.stringify(times));
"#;

/// `planJson` in node against the native parse + plan + serialize, for
/// the requests [`plan_time_us`] plans; `Err` says why it was skipped.
pub fn wasm_plan_times(
    dir: &Path,
    pkg: &Path,
    repeat: usize,
) -> Result<BTreeMap<u64, PlanJsonTimes>, String> {
    let module = pkg.join("framex_wasm.js");
    if !module.is_file() {
        return Err(format!(
            "no wasm package at {} (scripts/build-wasm.sh builds it)",
            pkg.display()
        ));
    }
    let node = which::which("node").map_err(|_| "node is not installed".to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let script = dir.join("plan-wasm.js");
    std::fs::write(&script, WASM_PLAN_SCRIPT).map_err(|e| e.to_string())?;
    let module = module.canonicalize().map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for n in SIZES {
        let text = serde_json::to_string(&plan_request(n)).expect("a request serializes");
        let file = dir.join(format!("plan-request-{n}.json"));
        std::fs::write(&file, &text).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        for _ in 0..repeat.max(1) {
            let t = Instant::now();
            let request = Request::from_json(&text).expect("parses");
            let plan = plan(&request).expect("plans");
            std::hint::black_box(serde_json::to_string(&plan).expect("serializes"));
            times.push(t.elapsed());
        }
        let output = Command::new(&node)
            .arg(&script)
            .arg(&module)
            .arg(&file)
            .arg(repeat.max(1).to_string())
            .output()
            .map_err(|e| format!("running node: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "node failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let wasm: Vec<f64> = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("node printed no times: {e}"))?;
        out.insert(
            n,
            PlanJsonTimes {
                native_us: Figure::us(&times),
                wasm_us: Figure::of(wasm),
            },
        );
    }
    Ok(out)
}

/// The request [`plan_time_us`] plans: `n` elements over `n / 50` sources
/// known by name only (an assumed 30 fps grid), with realistic repeats:
/// eight starts per source, every seventh element at 30000/1001 fps.
pub fn plan_request(n: u64) -> Request {
    let sources = (n / 50).max(1);
    let elements: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let src = format!("clips/source-{}.mp4", i % sources);
            let start = ((i / sources) % 8) as f64 * 0.5;
            let fps = if i % 7 == 0 { json!("30000/1001") } else { json!(30) };
            json!({"id": format!("e{i}"), "src": src, "mediaStart": start, "duration": 2.0, "fps": fps, "format": "png"})
        })
        .collect();
    let composition: Composition =
        serde_json::from_value(json!({ "elements": elements })).expect("valid composition");
    Request {
        composition,
        ..Request::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_plans_and_round_trips_as_text() {
        let request = plan_request(100);
        let plan = plan(&request).unwrap();
        assert_eq!(plan.totals.elements, 100);
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(Request::from_json(&text).unwrap(), request);
    }
}
