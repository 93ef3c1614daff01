//! Sets of frame indices, written as arithmetic progressions.

use std::fmt;
use std::ops::{Add, Mul, Sub};

/// Ascending values as arithmetic progressions `[first, step, count]`,
/// each as long as it goes on (step 0 when it has one value).
pub(crate) fn progressions<T>(values: impl IntoIterator<Item = T>) -> Vec<[T; 3]>
where
    T: Copy + PartialEq + From<u8> + Add<Output = T> + Sub<Output = T> + Mul<Output = T>,
{
    let (zero, one, two) = (T::from(0), T::from(1), T::from(2));
    let mut runs: Vec<[T; 3]> = Vec::new();
    for v in values {
        match runs.last_mut() {
            Some(run) if run[2] == one => {
                run[1] = v - run[0];
                run[2] = two;
            }
            Some(run) if run[0] + run[1] * run[2] == v => run[2] = run[2] + one,
            _ => runs.push([v, zero, one]),
        }
    }
    runs
}

/// A set of frame indices: arithmetic progressions `[first, count, step]`,
/// ascending and disjoint. Serialized as text for people to read:
/// `"0-89"` (0 to 89), `"0-118/2"` (every other), `"3,7,12-20"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexRuns(pub Vec<[u64; 3]>);

impl IndexRuns {
    /// Collects ascending, distinct indices.
    pub fn from_ascending(indices: impl IntoIterator<Item = u64>) -> Self {
        let runs = progressions(indices);
        // Two-element progressions read better as two numbers.
        let mut split = Vec::with_capacity(runs.len());
        for [first, step, count] in runs {
            if count == 2 && step > 1 {
                split.push([first, 1, 0]);
                split.push([first + step, 1, 0]);
            } else {
                split.push([first, count, step]);
            }
        }
        Self(split)
    }

    /// The indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0
            .iter()
            .flat_map(|&[first, count, step]| (0..count).map(move |k| first + k * step))
    }

    /// How many indices.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|r| r[1]).sum()
    }
}

impl fmt::Display for IndexRuns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, &[first, count, step]) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            let last = first + step * count.saturating_sub(1);
            match (count, step) {
                (1, _) => write!(f, "{first}")?,
                (_, 1) => write!(f, "{first}-{last}")?,
                _ => write!(f, "{first}-{last}/{step}")?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for IndexRuns {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("invalid frame list {text:?}");
        let mut runs = Vec::new();
        let mut next = 0u64;
        for item in text.split(',').filter(|i| !i.is_empty()) {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, s.parse::<u64>().map_err(|_| bad())?),
                None => (item, 1),
            };
            let (first, last) = match range.split_once('-') {
                Some((a, b)) => (
                    a.parse::<u64>().map_err(|_| bad())?,
                    b.parse::<u64>().map_err(|_| bad())?,
                ),
                None => {
                    let a = range.parse::<u64>().map_err(|_| bad())?;
                    (a, a)
                }
            };
            if step == 0 || last < first || (last - first) % step != 0 || first < next {
                return Err(bad());
            }
            let count = (last - first) / step + 1;
            runs.push([first, count, if count == 1 { 0 } else { step }]);
            next = last + 1;
        }
        Ok(Self(runs))
    }
}

serde_as_text!(IndexRuns, str::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_runs_are_arithmetic_progressions() {
        let runs = IndexRuns::from_ascending([0, 2, 4, 6, 7, 8, 9, 20, 25, 27, 30]);
        assert_eq!(
            runs.0,
            vec![
                [0, 4, 2],
                [7, 3, 1],
                [20, 1, 0],
                [25, 1, 0],
                [27, 1, 0],
                [30, 1, 0]
            ]
        );
        assert_eq!(runs.count(), 11);
        let all = vec![0, 2, 4, 6, 7, 8, 9, 20, 25, 27, 30];
        assert_eq!(runs.iter().collect::<Vec<_>>(), all);
        let json = serde_json::to_string(&runs).unwrap();
        assert_eq!(json, r#""0-6/2,7-9,20,25,27,30""#);
        assert_eq!(serde_json::from_str::<IndexRuns>(&json).unwrap(), runs);
        for bad in ["5,3", "1-0", "0-5/2", "x", "0-4/0"] {
            assert!(bad.parse::<IndexRuns>().is_err(), "{bad}");
        }
    }
}
