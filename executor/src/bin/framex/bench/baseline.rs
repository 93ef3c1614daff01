//! The hand-written baseline: one ffmpeg command per source, rate and
//! format, over the union of its elements' ranges.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use framex_core::{format_us, seconds_to_us, ImageFormat};

use super::runner::FfmpegCommand;
use super::scenario::{spec, Spec};

/// One hand-written command's work: the elements of one source, rate and
/// format, over the union of their ranges.
pub(super) struct Unit {
    pub(super) id: String,
    pub(super) spec: Spec,
}

pub(super) fn units(elements: &[Spec]) -> Vec<Unit> {
    let mut groups: BTreeMap<(PathBuf, u32, &str), (f64, f64)> = BTreeMap::new();
    let mut order = Vec::new();
    for e in elements {
        let key = (e.src.clone(), e.fps, e.format.as_str());
        let end = e.start + e.duration;
        groups
            .entry(key.clone())
            .and_modify(|r| *r = (r.0.min(e.start), r.1.max(end)))
            .or_insert_with(|| {
                order.push((key, e.format));
                (e.start, end)
            });
    }
    order
        .into_iter()
        .enumerate()
        .map(|(i, ((src, fps, _), format))| {
            let (start, end) = groups[&(src.clone(), fps, format.as_str())];
            let id = format!("u{}", i + 1);
            Unit {
                spec: spec(&id, &src, start, end - start, fps, format),
                id,
            }
        })
        .collect()
}

/// The hand-written command for a unit of `ticks` frames.
pub(super) fn command(unit: &Spec, ticks: u64, dir: &Path) -> FfmpegCommand {
    let mut args: Vec<OsString> = ["-nostdin", "-v", "error", "-y"]
        .iter()
        .map(OsString::from)
        .collect();
    let mut text = vec!["ffmpeg".to_string()];
    let start = seconds_to_us(unit.start).unwrap_or(0);
    if start > 0 {
        let s = seconds_text(start);
        args.extend(["-ss".into(), s.clone().into()]);
        text.extend(["-ss".into(), s]);
    }
    args.extend(["-i".into(), unit.src.clone().into_os_string()]);
    let name = unit
        .src
        .file_name()
        .map_or_else(|| unit.src.to_string_lossy(), |n| n.to_string_lossy());
    text.extend(["-i".into(), name.into_owned()]);
    let ext = unit.format.extension();
    let mut rest: Vec<String> = vec![
        "-an".into(),
        "-vf".into(),
        format!("fps={}", unit.fps),
        "-frames:v".into(),
        ticks.to_string(),
    ];
    match unit.format {
        ImageFormat::Png => rest.extend(["-compression_level".into(), "1".into()]),
        ImageFormat::Jpeg => rest.extend(["-q:v".into(), "2".into()]),
    }
    args.extend(rest.iter().map(OsString::from));
    args.push(dir.join(format!("%06d.{ext}")).into_os_string());
    text.extend(rest);
    text.push(format!("{}/%06d.{ext}", unit.id));
    FfmpegCommand {
        args,
        dir: dir.to_path_buf(),
        text: text.join(" "),
    }
}

/// Microseconds as seconds, without trailing zeros: `4`, `4.5`.
fn seconds_text(us: i64) -> String {
    let text = format_us(us);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cover_the_union_per_source_rate_and_format() {
        let m = Path::new("/m/main.mp4");
        let elements = vec![
            spec("a", m, 0.0, 12.0, 30, ImageFormat::Png),
            spec("b", m, 6.0, 12.0, 30, ImageFormat::Png),
            spec("t", m, 4.0, 4.0, 24, ImageFormat::Png),
            spec("j", m, 10.0, 4.0, 30, ImageFormat::Jpeg),
        ];
        let u = units(&elements);
        assert_eq!(u.len(), 3);
        assert_eq!((u[0].spec.start, u[0].spec.duration), (0.0, 18.0));
        assert_eq!(u[1].spec.fps, 24);
        assert_eq!(u[2].spec.format, ImageFormat::Jpeg);
        let c = command(&u[1].spec, 96, Path::new("/w/u2"));
        assert_eq!(
            c.text,
            "ffmpeg -ss 4 -i main.mp4 -an -vf fps=24 -frames:v 96 -compression_level 1 u2/%06d.png"
        );
        let c = command(&u[0].spec, 540, Path::new("/w/u1"));
        assert!(c.text.starts_with("ffmpeg -i main.mp4 "));
    }
}
