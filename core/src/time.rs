//! Exact time: integer microseconds and reduced rational frame rates.
//!
//! Every media time in framex is an `i64` count of microseconds and every frame
//! rate a reduced `u32/u32` fraction, so frame arithmetic is exact and the same
//! on every platform. Floats appear only where JSON seconds are read
//! ([`seconds_to_us`]), once, with a documented rounding rule.

use std::fmt;

/// Microseconds per second.
pub const US_PER_SEC: i64 = 1_000_000;

/// The largest frame rate accepted, in frames per second.
pub const MAX_FPS: u32 = 1000;

/// The largest media time accepted, in seconds (about 116 days). Larger values
/// are almost certainly a unit mistake (milliseconds given as seconds).
pub const MAX_SECONDS: f64 = 10_000_000.0;

/// A frame rate as a reduced fraction `num/den` frames per second.
///
/// Serialized as the string `"num/den"` (e.g. `"30000/1001"`, `"30/1"`), which
/// is also the exact form ffmpeg accepts for `-r` and `fps=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fps {
    num: u32,
    den: u32,
}

impl Fps {
    /// Builds a reduced rate, or `None` when either part is zero.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(u64::from(num), u64::from(den)) as u32;
        Some(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// A whole rate `n/1`, `n ≥ 1` (for constants).
    pub const fn whole(n: u32) -> Self {
        assert!(n > 0, "a rate is positive");
        Self { num: n, den: 1 }
    }

    /// The numerator (frames).
    pub fn num(self) -> u32 {
        self.num
    }

    /// The denominator (seconds).
    pub fn den(self) -> u32 {
        self.den
    }

    /// The rate as a float, for display only.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Parses `"num/den"` or a plain decimal such as `"30"` or `"29.97"`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let num = n.trim().parse::<u32>().ok()?;
            let den = d.trim().parse::<u32>().ok()?;
            return Self::new(num, den);
        }
        Self::from_f64(text.parse::<f64>().ok()?)
    }

    /// Converts a JSON number to a rate. The rounding rule, documented in the
    /// composition format: a whole number is `n/1`; a value within 0.001 of an
    /// NTSC rate `k·1000/1001` is that rate (29.97 → 30000/1001); anything else
    /// is rounded to the nearest thousandth (12.5 → 25/2).
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() || value <= 0.0 || value > f64::from(MAX_FPS) {
            return None;
        }
        let whole = value.round();
        if (value - whole).abs() < 1e-9 {
            return Self::new(whole as u32, 1);
        }
        let ntsc = (value * 1001.0 / 1000.0).round();
        if ntsc >= 1.0 && (ntsc * 1000.0 / 1001.0 - value).abs() < 1e-3 {
            return Self::new(ntsc as u32 * 1000, 1001);
        }
        let milli = (value * 1000.0).round();
        if milli < 1.0 {
            return None;
        }
        Self::new(milli as u32, 1000)
    }

    /// Number of frames in `duration_us`: `ceil(duration × fps)`, exactly.
    ///
    /// Frame `j` sits at `j/fps`; the frames inside `[0, duration)` are those
    /// with `j/fps < duration`, which is `ceil(duration × fps)` of them.
    pub fn frames_in(self, duration_us: i64) -> u64 {
        if duration_us <= 0 {
            return 0;
        }
        let n = i128::from(duration_us) * i128::from(self.num);
        let d = i128::from(self.den) * i128::from(US_PER_SEC);
        ((n + d - 1) / d) as u64
    }
}

impl fmt::Display for Fps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

serde_as_text!(Fps, |text| {
    Fps::parse(text).ok_or_else(|| format!("invalid frame rate {text:?}"))
});

/// The slowest playback rate accepted: `1/100` (a hundred times slower).
pub const MIN_PLAYBACK_RATE: (u32, u32) = (1, 100);

/// The fastest playback rate accepted: 100 times faster.
pub const MAX_PLAYBACK_RATE: u32 = 100;

/// How fast an element plays its source: seconds of source per second of
/// timeline, a reduced fraction in `[1/100, 100]` (`2/1` plays twice as fast,
/// `1/2` at half speed).
///
/// Serialized as `"num/den"`, like [`Fps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaybackRate {
    num: u32,
    den: u32,
}

impl Default for PlaybackRate {
    fn default() -> Self {
        Self::NORMAL
    }
}

impl PlaybackRate {
    /// Normal speed, `1/1`: the default.
    pub const NORMAL: Self = Self { num: 1, den: 1 };

    /// Builds a reduced rate, or `None` when a part is zero or the rate lies
    /// outside `[1/100, 100]`.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        let reduced = Fps::new(num, den)?;
        let (num, den) = (u64::from(reduced.num), u64::from(reduced.den));
        let (min_num, min_den) = (
            u64::from(MIN_PLAYBACK_RATE.0),
            u64::from(MIN_PLAYBACK_RATE.1),
        );
        (num * min_den >= min_num * den && num <= u64::from(MAX_PLAYBACK_RATE) * den).then_some(
            Self {
                num: reduced.num,
                den: reduced.den,
            },
        )
    }

    /// Parses `"num/den"` or a decimal, with [`Fps::parse`]'s rules.
    pub fn parse(text: &str) -> Option<Self> {
        Fps::parse(text).and_then(|f| Self::new(f.num, f.den))
    }

    /// Converts a JSON number with [`Fps::from_f64`]'s rounding rule (a whole
    /// number is `n/1`, `0.999` is `1000/1001`, else the nearest thousandth).
    pub fn from_f64(value: f64) -> Option<Self> {
        Fps::from_f64(value).and_then(|f| Self::new(f.num, f.den))
    }

    /// The numerator.
    pub fn num(self) -> u32 {
        self.num
    }

    /// The denominator.
    pub fn den(self) -> u32 {
        self.den
    }

    /// Whether this is normal speed (`1/1`).
    pub fn is_normal(&self) -> bool {
        *self == Self::NORMAL
    }
}

impl fmt::Display for PlaybackRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

serde_as_text!(PlaybackRate, |text| {
    PlaybackRate::parse(text).ok_or_else(|| format!("invalid playback rate {text:?}"))
});

/// Converts JSON seconds to integer microseconds: rounded to the nearest
/// microsecond, halves away from zero. `None` for non-finite or out-of-range
/// values (beyond ±[`MAX_SECONDS`]).
pub fn seconds_to_us(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() || seconds.abs() > MAX_SECONDS {
        return None;
    }
    Some((seconds * US_PER_SEC as f64).round() as i64)
}

/// Formats microseconds as seconds with exactly six decimals (`"12.500000"`),
/// the form handed to ffmpeg and shown to people: exact, never a float artefact.
pub fn format_us(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let abs = us.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        abs / US_PER_SEC as u64,
        abs % US_PER_SEC as u64
    )
}

/// Greatest common divisor.
pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(n: u32, d: u32) -> Fps {
        Fps::new(n, d).unwrap()
    }

    #[test]
    fn rates_are_reduced() {
        assert_eq!(fps(60, 2), fps(30, 1));
        assert_eq!(fps(30000, 1001).to_string(), "30000/1001");
        assert_eq!(Fps::new(0, 1), None);
        assert_eq!(Fps::new(1, 0), None);
    }

    #[test]
    fn float_rates_follow_the_documented_rule() {
        assert_eq!(Fps::from_f64(30.0), Some(fps(30, 1)));
        assert_eq!(Fps::from_f64(29.97), Some(fps(30000, 1001)));
        assert_eq!(Fps::from_f64(23.976), Some(fps(24000, 1001)));
        assert_eq!(Fps::from_f64(59.94), Some(fps(60000, 1001)));
        assert_eq!(Fps::from_f64(12.5), Some(fps(25, 2)));
        assert_eq!(Fps::from_f64(0.0), None);
        assert_eq!(Fps::from_f64(-1.0), None);
        assert_eq!(Fps::from_f64(1000.5), None);
        assert_eq!(Fps::from_f64(f64::NAN), None);
        assert_eq!(Fps::parse("30000/1001"), Some(fps(30000, 1001)));
        assert_eq!(Fps::parse(" 24 "), Some(fps(24, 1)));
        assert_eq!(Fps::parse("24/0"), None);
        assert_eq!(Fps::parse("abc"), None);
    }

    #[test]
    fn frame_counts_are_exact() {
        // 10 s at 29.97 fps: 299.7 → 300 frames.
        assert_eq!(fps(30000, 1001).frames_in(10 * US_PER_SEC), 300);
        // 2.05 s at 30 fps is 61.5 frames → 62, not the float artefact 61.4999….
        assert_eq!(fps(30, 1).frames_in(seconds_to_us(2.05).unwrap()), 62);
        assert_eq!(fps(30, 1).frames_in(2 * US_PER_SEC), 60);
        assert_eq!(fps(30, 1).frames_in(1), 1);
        assert_eq!(fps(30, 1).frames_in(0), 0);
        assert_eq!(fps(30, 1).frames_in(-5), 0);
        // One microsecond past a whole frame boundary needs one more frame.
        assert_eq!(fps(25, 1).frames_in(40_001), 2);
        assert_eq!(fps(25, 1).frames_in(40_000), 1);
        // A very long range does not overflow.
        assert_eq!(
            fps(1000, 1).frames_in(seconds_to_us(MAX_SECONDS).unwrap()),
            10_000_000_000
        );
    }

    #[test]
    fn playback_rates_are_bounded_reduced_fractions() {
        let rate = |n, d| PlaybackRate::new(n, d).unwrap();
        assert_eq!(rate(4, 2), rate(2, 1));
        assert_eq!(rate(4, 2).to_string(), "2/1");
        assert_eq!(PlaybackRate::from_f64(0.5), Some(rate(1, 2)));
        assert_eq!(PlaybackRate::from_f64(1.5), Some(rate(3, 2)));
        assert_eq!(PlaybackRate::from_f64(0.01), Some(rate(1, 100)));
        assert_eq!(PlaybackRate::from_f64(100.0), Some(rate(100, 1)));
        assert_eq!(PlaybackRate::from_f64(0.009), None);
        assert_eq!(PlaybackRate::from_f64(100.5), None);
        assert_eq!(PlaybackRate::from_f64(0.0), None);
        assert_eq!(PlaybackRate::from_f64(-2.0), None);
        assert_eq!(PlaybackRate::parse("1000/1001"), Some(rate(1000, 1001)));
        assert_eq!(PlaybackRate::parse("1/101"), None);
        assert_eq!(PlaybackRate::parse("101/1"), None);
        assert_eq!(PlaybackRate::parse("2/0"), None);
        assert!(PlaybackRate::default().is_normal());
    }

    #[test]
    fn seconds_round_to_the_nearest_microsecond() {
        assert_eq!(seconds_to_us(12.5), Some(12_500_000));
        assert_eq!(seconds_to_us(0.0000005), Some(1));
        assert_eq!(seconds_to_us(0.0000004), Some(0));
        assert_eq!(seconds_to_us(f64::INFINITY), None);
        assert_eq!(seconds_to_us(1e300), None);
        assert_eq!(format_us(12_500_000), "12.500000");
        assert_eq!(format_us(-1), "-0.000001");
    }
}
