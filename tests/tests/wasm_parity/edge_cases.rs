//! The edge cases: requests where a careless binding would differ from the
//! native planner.

use framex_core::{ImageFormat, Recipe, SourceIdentity, TimeBase};

/// Requests where a careless binding would differ from the native planner:
/// 64-bit integers past 2^53, -0, long decimals, probed timelines, cached
/// frames, every kind of error. `{X_KEY}` is replaced by the recipe key of
/// `x.mp4` (a name) at 30 fps in PNG, so that its cached frames hit.
pub(crate) const EDGE_CASES: &[(&str, &str)] = &[
    (
        "duplicates",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":0,"duration":2,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "file-identity-u64-max-alpha",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":2,"fps":24,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":1,"duration":2,"fps":24,"format":"png"},
        {"id":"c","src":"x.mp4","mediaStart":5.5,"duration":1,"fps":24,"format":"jpeg"}]},
      "sources":{"x.mp4":{"identity":{"kind":"file","path":"/m/x.mp4","size":18446744073709551615,
        "mtimeNs":1732500000123456789},"durationUs":6000000,"alpha":true,"frameRate":"24"}},
      "options":{"seekCostFrames":0}}"#,
    ),
    (
        "cached-frames-hit-and-miss",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"},
        {"id":"b","src":"x.mp4","mediaStart":0.5,"duration":1,"fps":60,"format":"png"},
        {"id":"c","src":"x.mp4","mediaStart":0,"duration":0.5,"fps":30,"format":"png"}]},
      "cachedFrames":{"{X_KEY}":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,20,9007199254740993],"0000":[1]}}"#,
    ),
    (
        "content-identity-ntsc-pq",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x.mp4","mediaStart":0.1,"duration":0.3,"fps":"30000/1001","format":"jpeg","sdrToHdrTransfer":"pq"}]},
      "sources":{"x.mp4":{"identity":{"kind":"content","blake3":"ab12"},"frameRate":"29.97","durationUs":1000000}}}"#,
    ),
    (
        "probed-vfr-timeline-loop-rate-trim",
        r#"{"composition":{"elements":[
        {"id":"loop","src":"v.mp4","mediaStart":0.2,"duration":3,"mediaDuration":0.7,"loop":true,"fps":24,"format":"png"},
        {"id":"fast","src":"v.mp4","mediaStart":0,"duration":1,"fps":30,"playbackRate":"3/2","format":"png"},
        {"id":"slow","src":"v.mp4","mediaStart":0.5,"duration":2,"fps":60,"playbackRate":0.25,"format":"png"},
        {"id":"past","src":"v.mp4","mediaStart":9,"duration":0.5,"fps":30,"format":"png"},
        {"id":"placed","src":"v.mp4","mediaStart":0,"duration":1,"start":2.5,"fps":30,"format":"png"}]},
      "sources":{"v.mp4":{"identity":{"kind":"name","name":"v.mp4"},"timeline":{"timeBase":"1/15360",
        "pts":[[0,512,20],[10752,0,1],[30720,517,40],[51400,512,30]],"end":66760,"keyframes":[[0,30,2],[61,0,1]]}}}}"#,
    ),
    (
        "timeline-past-2-to-the-53",
        r#"{"composition":{"elements":[
        {"id":"a","src":"v.mp4","mediaStart":0,"duration":1,"fps":30,"format":"png"}]},
      "sources":{"v.mp4":{"identity":{"kind":"name","name":"v.mp4"},"timeline":{"timeBase":"1/90000",
        "pts":[[0,3002399751580331,4]],"end":12009599006321324}}}}"#,
    ),
    (
        "every-field-invalid",
        r#"{"composition":{"elements":[
        {"id":"../a","src":"","mediaStart":-0.30000000000000004,"duration":0,"fps":1001,"format":"gif","sdrToHdrTransfer":"x"},
        {"id":"../a","src":"x","mediaStart":1e300,"duration":1,"fps":29.97,"format":"png"},
        {"id":"b","src":"x","mediaStart":0,"duration":1,"start":-1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "unknown-field-did-you-mean",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":0,"duration":1,"fps":30,"format":"png","durration":2}]}}"#,
    ),
    (
        "unknown-variant-did-you-mean",
        r#"{"composition":{"elements":[]},"sources":{"x":{"identity":{"kind":"fil","path":"/x"}}}}"#,
    ),
    ("not-json", r#"{"composition":{"elements":[{,]}}"#),
    (
        "wrong-type",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":"0","duration":1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "missing-field",
        r#"{"composition":{"elements":[{"id":"a","src":"x","duration":1,"fps":30,"format":"png"}]}}"#,
    ),
    (
        "bad-timeline",
        r#"{"composition":{"elements":[]},"sources":{"v":{"identity":{"kind":"name","name":"v"},
        "timeline":{"timeBase":"1/30","pts":[[0,1,3],[2,1,1]],"end":4}}}}"#,
    ),
    (
        "loop-without-pass-length",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":7,"duration":1,"fps":30,"loop":true,"format":"png"}]}}"#,
    ),
    (
        "negative-zero-and-half-microseconds",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":-0,"duration":1.0000005,"fps":12.5,"format":"png"},
        {"id":"b","src":"x","mediaStart":-0.0,"duration":0.0000004,"fps":30,"format":"png"},
        {"id":"c","src":"x","mediaStart":0,"duration":-0,"fps":-0,"format":"png"}]}}"#,
    ),
    (
        "negative-size",
        r#"{"composition":{"elements":[]},
      "sources":{"x":{"identity":{"kind":"file","path":"/x","size":-1,"mtimeNs":1}}}}"#,
    ),
    (
        "long-decimals",
        r#"{"composition":{"elements":[
        {"id":"a","src":"x","mediaStart":0.1234567890123456789,"duration":2.00000049999999999,"fps":23.976023976023978,"format":"png"},
        {"id":"b","src":"x","mediaStart":-1.2345678901234567e-7,"duration":1,"fps":30,"format":"png"}]}}"#,
    ),
];

/// The recipe key `{X_KEY}` stands for.
pub(crate) fn x_key() -> String {
    let identity = SourceIdentity::Name {
        name: "x.mp4".into(),
    };
    let recipe = Recipe::new(ImageFormat::Png, false, None);
    framex_core::recipe_key(&identity, TimeBase::new(1, 30).unwrap(), recipe)
}
