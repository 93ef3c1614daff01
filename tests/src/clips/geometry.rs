//! The matrix's clips whose display differs from storage: a rotated phone
//! clip and non-square pixels.

use super::numbered::{clip, make, numbered_input, strings};
use super::{Clip, HEIGHT, WIDTH};

/// A phone-style portrait clip: stored 192×144 with a display matrix of 90°
/// clockwise (as phones write), displayed 144×192 upright. Made as upright
/// 144×192 content turned counter-clockwise (`transpose=cclock`), encoded
/// losslessly, then remuxed with `-metadata:s:v:0 rotate=270`: in ffmpeg
/// 5.1, `rotate` given while encoding writes no matrix at all, and on a
/// remux `rotate=90` writes a 90° *counter-clockwise* matrix; 270 writes the
/// phones' matrix (ffprobe: `rotation: -90`). 30 fps, 2 s.
pub fn rotated() -> Clip {
    let mut args = numbered_input(HEIGHT, WIDTH, "30", 60, "transpose=cclock");
    args.extend(strings(&["-c:v", "libx264", "-qp", "0", "-g", "30"]));
    let stored = make("m_rotated_source.mp4", &args);
    let remux = strings(&[
        "-i",
        stored.to_str().expect("utf-8 path"),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=270",
    ]);
    let path = make("m_rotated.mp4", &remux);
    Clip {
        width: HEIGHT,
        height: WIDTH,
        rotation: 90,
        ..clip(
            "m_rotated",
            path,
            "libx264",
            "mp4",
            (30, 1),
            60,
            "stored 192x144, display matrix 90° clockwise (remux with rotate=270), shown 144x192",
        )
    }
}

/// Non-square pixels: 192×144 with SAR 4/3 (as HDV's 1440×1080), displayed
/// 256×144 (16:9). Lossless H.264 in MP4, 30 fps, 2 s.
pub fn anamorphic() -> Clip {
    let mut args = numbered_input(WIDTH, HEIGHT, "30", 60, "setsar=4/3");
    args.extend(strings(&["-c:v", "libx264", "-qp", "0", "-g", "30"]));
    let path = make("m_anamorphic.mp4", &args);
    Clip {
        sar: (4, 3),
        ..clip(
            "m_anamorphic",
            path,
            "libx264",
            "mp4",
            (30, 1),
            60,
            "SAR 4:3 (DAR 16:9), decoded at the stored 192x144",
        )
    }
}
