//! Reading and driving the page: the scripts that read what it shows and its
//! layout, waiting for a render, editing the composition as a person would.

use serde_json::{json, Value};

use crate::webdriver::Browser;
use crate::LOAD;

/// What the page shows: state, the request, totals, lanes, decode runs, errors.
const READ_PAGE: &str = r#"
const q = (s) => [...document.querySelectorAll(s)];
const totals = {};
for (const n of q('#totals [data-testid^="total-"]')) totals[n.dataset.testid] = Number(n.dataset.value);
const where = (n) => ({ sourceId: n.closest('[data-testid="source"]').dataset.sourceId,
                        group: n.closest('[data-testid="recipe"]').dataset.recipe });
return {
  state: document.body.dataset.state,
  updates: Number(document.body.dataset.updates || 0),
  status: document.getElementById("status").textContent,
  request: document.getElementById("request").textContent,
  totalsShown: getComputedStyle(document.getElementById("totals")).display !== "none",
  totals,
  lanes: q('[data-testid="lane"]').map((l) => ({ ...l.dataset, ...where(l) })),
  runs: q('[data-testid="run"]').map((r) => ({ ...r.dataset, ...where(r), title: r.title })),
  errors: q('[data-testid="element-error"]').map((e) => {
    let row = e.previousElementSibling;
    while (row && row.dataset.testid !== "element-row") row = row.previousElementSibling;
    return { index: Number(e.dataset.index), elementId: e.dataset.elementId, field: e.dataset.field,
             text: e.textContent, rowElementId: row ? row.dataset.elementId : null };
  }),
  parseError: getComputedStyle(document.getElementById("parse-error")).display === "none"
    ? null : document.getElementById("parse-error").textContent,
  sourceRows: q('#sources li').map((s) => ({ testid: s.dataset.testid, src: s.dataset.src, name: s.dataset.name })),
  text: document.body.innerText,
};
"#;

/// The layout at the window's width: what overflows, what wraps, what cannot
/// be read.
pub(crate) const READ_LAYOUT: &str = r##"
const q = (s) => [...document.querySelectorAll(s)];
const table = document.getElementById("elements");
const panel = table.closest(".panel").getBoundingClientRect();
const box = table.getBoundingClientRect();
const outside = (r) => r.left < panel.left - 0.5 || r.right > panel.right + 0.5;
// Lines of text in a node: its text's line boxes, told apart by their middles.
const lines = (node) => {
  const range = document.createRange();
  range.selectNodeContents(node);
  const middles = [...range.getClientRects()].filter((r) => r.width > 0)
    .map((r) => (r.top + r.bottom) / 2).sort((a, b) => a - b);
  let count = 0, last = -Infinity;
  for (const m of middles) { if (m - last > 8) count++; last = m; }
  return count;
};
const wrapped = q('#elements th, #elements [data-testid="role-cell"]').map((c) => {
  const words = c.textContent.trim().split(/\s+/).filter(Boolean).length;
  return { text: c.textContent.trim(), words, lines: lines(c) };
}).filter((c) => c.words >= 3 && c.lines > Math.ceil(c.words / 2));
// WCAG contrast of a label's text on its own background.
const luminance = (css) => {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = q('[data-testid="duplicate-label"]').map((l) => {
  const s = getComputedStyle(l);
  const [a, b] = [luminance(s.color), luminance(s.backgroundColor)].sort((x, y) => y - x);
  return { text: l.textContent, ratio: (a + 0.05) / (b + 0.05), opaque: !/rgba\(.*,\s*0(\.\d+)?\)$/.test(s.backgroundColor) };
});
return {
  innerWidth, scrollWidth: document.documentElement.scrollWidth,
  overflowing: q("main, .panel, .source, .recipe, .sources li, #elements").filter((n) => n.scrollWidth > n.clientWidth + 1)
    .map((n) => `${n.tagName.toLowerCase()}.${n.className} ${n.scrollWidth} > ${n.clientWidth}`),
  tableInside: !outside(box),
  cellsOutside: q("#elements th, #elements td").filter((c) => outside(c.getBoundingClientRect())).map((c) => c.textContent),
  wrapped, contrast,
};
"##;

fn read_page(browser: &Browser) -> Value {
    browser.eval(READ_PAGE, json!([]))
}

/// Waits for a render after `updates`, in `state`, for which `also` (a JS
/// expression) holds.
pub(crate) fn wait_render_where(browser: &Browser, after: u64, state: &str, also: &str) -> Value {
    let script = format!(
        "return Number(document.body.dataset.updates || 0) > {after} \
         && document.body.dataset.state === {state:?} && ({also})"
    );
    browser.wait_for(&format!("the page to be {state}"), &script, LOAD);
    read_page(browser)
}

pub(crate) fn wait_render(browser: &Browser, after: u64, state: &str) -> Value {
    wait_render_where(browser, after, state, "true")
}

pub(crate) fn updates(page: &Value) -> u64 {
    page["updates"].as_u64().unwrap_or(0)
}

/// Replaces the composition the way a paste does, then types one more
/// character as a person would.
pub(crate) fn edit_composition(browser: &Browser, text: &str) {
    browser.eval(
        "const t = document.getElementById('composition'); t.value = arguments[0]; \
         t.dispatchEvent(new Event('input', { bubbles: true }));",
        json!([text]),
    );
    let textarea = browser.find("[data-testid=composition]");
    browser.type_into(&textarea, "\n");
}
