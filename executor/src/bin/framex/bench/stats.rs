//! Figures over repeats: min, median and max of the samples, and ratios
//! between figures measured side by side.

use std::time::Duration;

use serde::Serialize;

/// A measured figure: every sample, and its min, median and max.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figure {
    /// The smallest sample.
    pub min: f64,
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The largest sample.
    pub max: f64,
    /// Every sample, in the order measured.
    pub samples: Vec<f64>,
}

impl Figure {
    /// The figure of `samples`; all zero when there are none.
    pub fn of(samples: Vec<f64>) -> Self {
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Self::default();
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Self {
            min: sorted[0],
            median,
            max: sorted[n - 1],
            samples,
        }
    }

    /// Durations in milliseconds.
    pub fn ms(durations: &[Duration]) -> Self {
        Self::of(durations.iter().map(|d| d.as_secs_f64() * 1e3).collect())
    }

    /// Durations in microseconds.
    pub fn us(durations: &[Duration]) -> Self {
        Self::of(durations.iter().map(|d| d.as_secs_f64() * 1e6).collect())
    }

    /// Whether it has samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// `a ÷ b` for two figures measured side by side: the ratio of their
/// medians, and the spread of the ratios of samples taken in the same
/// repetition.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratio {
    /// `median(a) / median(b)`.
    pub of_medians: f64,
    /// `a[i] / b[i]` for each repetition `i`.
    pub paired: Figure,
}

impl Ratio {
    /// `a ÷ b`; `None` when either has no samples or `b`'s median is 0.
    pub fn of(a: &Figure, b: &Figure) -> Option<Self> {
        if a.is_empty() || b.is_empty() || b.median <= 0.0 {
            return None;
        }
        let paired = a
            .samples
            .iter()
            .zip(&b.samples)
            .filter(|(_, &y)| y > 0.0)
            .map(|(x, y)| x / y)
            .collect();
        Some(Self {
            of_medians: a.median / b.median,
            paired: Figure::of(paired),
        })
    }
}

/// `median (min–max)` with `decimals` digits.
pub fn spread(figure: &Figure, decimals: usize) -> String {
    if figure.is_empty() {
        return "-".into();
    }
    if figure.samples.len() == 1 {
        return format!("{:.decimals$}", figure.median);
    }
    format!(
        "{:.decimals$} ({:.decimals$}–{:.decimals$})",
        figure.median, figure.min, figure.max
    )
}

/// A ratio as `median-ratio (min–max of the paired ratios)`.
pub fn ratio_text(ratio: Option<&Ratio>) -> String {
    match ratio {
        None => "-".into(),
        Some(r) if r.paired.samples.len() <= 1 => format!("{:.3}", r.of_medians),
        Some(r) => format!(
            "{:.3} ({:.2}–{:.2})",
            r.of_medians, r.paired.min, r.paired.max
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios() {
        let f = Figure::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((f.min, f.median, f.max), (1.0, 2.0, 3.0));
        assert_eq!(Figure::of(vec![4.0, 1.0, 2.0, 3.0]).median, 2.5);
        let g = Figure::of(vec![6.0, 2.0, 4.0]);
        let r = Ratio::of(&f, &g).unwrap();
        assert_eq!(r.of_medians, 0.5);
        assert_eq!(r.paired.samples, vec![0.5, 0.5, 0.5]);
        assert!(Ratio::of(&f, &Figure::default()).is_none());
        assert_eq!(spread(&f, 0), "2 (1–3)");
    }
}
