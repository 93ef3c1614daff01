//! The unit a stream counts its timestamps in.

use crate::time::{Fps, US_PER_SEC};

/// The unit of a stream's timestamps: `num/den` seconds per tick, reduced.
/// Serialized as `"num/den"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeBase {
    pub(super) num: u32,
    pub(super) den: u32,
}

impl TimeBase {
    /// A reduced time base, or `None` when a part is zero.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        let f = Fps::new(num, den)?;
        Some(Self {
            num: f.num(),
            den: f.den(),
        })
    }

    /// Seconds per tick, numerator.
    pub fn num(self) -> u32 {
        self.num
    }

    /// Seconds per tick, denominator.
    pub fn den(self) -> u32 {
        self.den
    }

    /// `ticks` as microseconds, rounded down (for display and seeking).
    pub fn ticks_to_us_floor(self, ticks: i64) -> i64 {
        let n = i128::from(ticks) * i128::from(self.num) * i128::from(US_PER_SEC);
        n.div_euclid(i128::from(self.den)) as i64
    }

    /// `ticks` as microseconds, rounded up.
    pub fn ticks_to_us_ceil(self, ticks: i64) -> i64 {
        let n = i128::from(ticks) * i128::from(self.num) * i128::from(US_PER_SEC);
        let d = i128::from(self.den);
        (-((-n).div_euclid(d))) as i64
    }
}

impl std::fmt::Display for TimeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

serde_as_text!(TimeBase, |text| {
    let parsed = text
        .split_once('/')
        .and_then(|(n, d)| TimeBase::new(n.trim().parse().ok()?, d.trim().parse().ok()?));
    parsed.ok_or_else(|| format!("invalid time base {text:?}"))
});
