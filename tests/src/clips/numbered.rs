//! How a matrix clip is made: the filter that writes the frame number
//! ([`number_filter`]), the lavfi input that uses it, and a [`Clip`] with the
//! defaults.

use std::path::PathBuf;

use super::make_clip;
use super::{Clip, HEIGHT, WIDTH};

/// The `geq` filter that writes the frame number, `N + offset` (mod 4096),
/// over `testsrc2` (see the module docs). With `alpha`, the top band is
/// alpha 64 and the rest opaque.
pub fn number_filter(offset: u32, alpha: bool) -> String {
    let digit = format!("16+14*mod(floor((N+{offset})/pow(16,floor(3*X/W))),16)");
    let lum = format!("if(lt(Y,H/4),lum(X,Y),if(lt(Y,3*H/4),{digit},if(lt(X,W/2),16,226)))");
    let mut filter =
        format!("geq=lum='{lum}':cb='if(lt(Y,H/4),cb(X,Y),128)':cr='if(lt(Y,H/4),cr(X,Y),128)'");
    if alpha {
        filter.push_str(":a='if(lt(Y,H/4),64,255)'");
    }
    filter
}

/// `ffmpeg` arguments for `frames` numbered frames of `width`×`height` at
/// `rate` (lavfi input, `-frames:v`, and `-vf` with the numbering followed by
/// `extra_filters`).
pub(super) fn numbered_input(
    width: u32,
    height: u32,
    rate: &str,
    frames: u32,
    extra_filters: &str,
) -> Vec<String> {
    let mut vf = format!("format=yuv420p,{}", number_filter(0, false));
    if !extra_filters.is_empty() {
        vf.push(',');
        vf.push_str(extra_filters);
    }
    strings(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={width}x{height}:rate={rate}"),
        "-frames:v",
        &frames.to_string(),
        "-vf",
        &vf,
    ])
}

pub(super) fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

pub(super) fn make(name: &str, args: &[String]) -> PathBuf {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    make_clip(name, &args)
}

/// A clip with the defaults (192×144, square pixels, no rotation or alpha).
pub(super) fn clip(
    name: &'static str,
    path: PathBuf,
    codec: &'static str,
    container: &'static str,
    rate: (u32, u32),
    frames: u32,
    notes: &'static str,
) -> Clip {
    Clip {
        name,
        path,
        codec,
        container,
        rate,
        frames,
        width: WIDTH,
        height: HEIGHT,
        sar: (1, 1),
        rotation: 0,
        alpha: false,
        decoder: None,
        notes,
    }
}
