//! Validation: from what the composition says to exact, checked elements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::composition::{
    Composition, ElementInput, FpsInput, IdentityMode, ImageFormat, Transfer,
};
use crate::error::{ElementError, Field, PlanError, Problem};
use crate::request::SourceFacts;
use crate::str_map::StrMap;
use crate::time::{seconds_to_us, Fps, PlaybackRate, MAX_FPS};

/// The most bytes an id may have.
pub const MAX_ID_BYTES: usize = 128;

/// The most elements one composition may have.
pub const MAX_ELEMENTS: usize = 200_000;

/// The most frames one element may have: 1 000 000 (9 h 15 min at 30 fps,
/// 4 h 37 min at 60). Larger slots are almost certainly a unit mistake, and
/// each frame becomes a file.
pub const MAX_FRAMES_PER_ELEMENT: u64 = 1_000_000;

/// Ids that would clash with files the executor writes next to element
/// directories.
pub const RESERVED_IDS: &[&str] = &["framex-report.json"];

/// A validated element: integer time, rational fps, known format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Element {
    /// Unique, safe as a directory name.
    pub id: String,
    /// The `src` as written.
    pub src: String,
    /// Start in the source, microseconds.
    pub start_us: i64,
    /// Duration, microseconds (> 0).
    pub duration_us: i64,
    /// Where it starts on the composition's timeline, microseconds (≥ 0),
    /// when given (else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_start_us: Option<i64>,
    /// Seconds of source one pass plays, microseconds (> 0), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_duration_us: Option<i64>,
    /// Frame rate.
    pub fps: Fps,
    /// Playback rate (1/1 unless given).
    #[serde(default, skip_serializing_if = "PlaybackRate::is_normal")]
    pub playback_rate: PlaybackRate,
    /// The pass repeats for as long as the slot lasts.
    #[serde(default, rename = "loop", skip_serializing_if = "is_false")]
    pub looping: bool,
    /// Image format.
    pub format: ImageFormat,
    /// SDR→HDR transfer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Element {
    /// Ticks in the element's slot: `ceil(duration × fps)`.
    pub fn ticks(&self) -> u64 {
        self.fps.frames_in(self.duration_us)
    }
}

/// Validates every element; all problems are reported, not just the first.
/// `sources` are the facts the plan will use: a `loop` needs the length of a
/// pass, from `mediaDuration` or from a known source duration.
pub fn validate(
    composition: &Composition,
    sources: &BTreeMap<String, SourceFacts>,
) -> Result<Vec<Element>, PlanError> {
    validate_with(composition, Some(sources))
}

/// Validates what needs no source facts: every check of [`validate`] but the
/// one that a `loop` knows its pass's length. The executor runs it before it
/// probes the sources (whose durations then become known).
pub fn validate_fields(composition: &Composition) -> Result<Vec<Element>, PlanError> {
    validate_with(composition, None)
}

fn validate_with(
    composition: &Composition,
    sources: Option<&BTreeMap<String, SourceFacts>>,
) -> Result<Vec<Element>, PlanError> {
    let count = composition.elements.len();
    if count > MAX_ELEMENTS {
        return Err(PlanError::TooManyElements {
            count: count as u64,
            max: MAX_ELEMENTS as u64,
        });
    }
    let mut errors = Vec::new();
    let mut elements = Vec::with_capacity(count);
    let mut first_with_id: StrMap<u32> = StrMap::with_capacity(count);
    for (index, input) in composition.elements.iter().enumerate() {
        let index = index as u32;
        let mut fail = |field, problem| {
            errors.push(ElementError {
                index,
                id: input.id.clone(),
                field,
                problem,
            })
        };
        if let Err(problem) = check_id(&input.id) {
            fail(Field::Id, problem);
        } else if let Some(first) = first_with_id.get(&input.id) {
            fail(Field::Id, Problem::DuplicateId { first });
        } else {
            first_with_id.insert(&input.id, index);
        }
        let facts = sources.map(|s| s.get(&input.src));
        match check_element(input, facts) {
            Ok(element) => elements.push(element),
            Err(problems) => problems.into_iter().for_each(|(f, p)| fail(f, p)),
        }
    }
    if errors.is_empty() {
        Ok(elements)
    } else {
        Err(PlanError::Invalid(errors))
    }
}

/// Checks that an id is usable as a directory name on any platform.
pub fn check_id(id: &str) -> Result<(), Problem> {
    let unsafe_id = |reason: &str| {
        Err(Problem::UnsafeId {
            reason: reason.to_string(),
        })
    };
    if id.is_empty() {
        return Err(Problem::EmptyId);
    }
    if id.len() > MAX_ID_BYTES {
        return unsafe_id(&format!("longer than {MAX_ID_BYTES} bytes"));
    }
    if id == "." || id == ".." {
        return unsafe_id("is a relative path component");
    }
    if let Some(c) = id
        .chars()
        .find(|c| matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return unsafe_id(&format!("contains {c:?}"));
    }
    if id.chars().any(char::is_control) {
        return unsafe_id("contains a control character");
    }
    if id.starts_with('.') {
        return unsafe_id("starts with '.'");
    }
    if id.ends_with('.') || id.ends_with(' ') || id.starts_with(' ') {
        return unsafe_id("starts or ends with a space, or ends with '.'");
    }
    let stem = id.split('.').next().unwrap_or(id);
    let is = |name: &str| stem.eq_ignore_ascii_case(name);
    let windows_device = is("con")
        || is("prn")
        || is("aux")
        || is("nul")
        || (stem.len() == 4
            && (stem.as_bytes()[..3].eq_ignore_ascii_case(b"com")
                || stem.as_bytes()[..3].eq_ignore_ascii_case(b"lpt"))
            && stem.as_bytes()[3].is_ascii_digit());
    if windows_device || RESERVED_IDS.contains(&id) {
        return unsafe_id("is a reserved name");
    }
    Ok(())
}

/// `facts`: `None` when source facts are not looked at yet, `Some(None)` for
/// a source without facts (its duration is unknown).
fn check_element(
    input: &ElementInput,
    facts: Option<Option<&SourceFacts>>,
) -> Result<Element, Vec<(Field, Problem)>> {
    let mut problems = Vec::new();
    if input.src.is_empty() {
        problems.push((Field::Src, Problem::EmptySource));
    }
    let start_us = match seconds_to_us(input.media_start) {
        None => {
            problems.push((Field::MediaStart, time_out_of_range(input.media_start)));
            None
        }
        Some(us) if us < 0 || input.media_start < 0.0 => {
            let value = input.media_start.to_string();
            problems.push((Field::MediaStart, Problem::NegativeStart { value }));
            None
        }
        Some(us) => Some(us),
    };
    let duration_us = match seconds_to_us(input.duration) {
        None => {
            problems.push((Field::Duration, time_out_of_range(input.duration)));
            None
        }
        Some(us) if us <= 0 => {
            let value = input.duration.to_string();
            problems.push((Field::Duration, Problem::NonPositiveDuration { value }));
            None
        }
        Some(us) => Some(us),
    };
    let timeline_start_us = match input.start.map(|s| (s, seconds_to_us(s))) {
        None => Some(None),
        Some((s, None)) => {
            problems.push((Field::Start, time_out_of_range(s)));
            None
        }
        Some((s, Some(us))) if us < 0 || s < 0.0 => {
            let value = s.to_string();
            problems.push((Field::Start, Problem::NegativeStart { value }));
            None
        }
        Some((_, Some(us))) => Some(Some(us)),
    };
    let media_duration_us = match input.media_duration.map(|d| (d, seconds_to_us(d))) {
        None => Some(None),
        Some((d, None)) => {
            problems.push((Field::MediaDuration, time_out_of_range(d)));
            None
        }
        Some((d, Some(us))) if us <= 0 => {
            let value = d.to_string();
            problems.push((Field::MediaDuration, Problem::NonPositiveDuration { value }));
            None
        }
        Some((_, Some(us))) => Some(Some(us)),
    };
    let fps = match &input.fps {
        FpsInput::Number(n) => Fps::from_f64(*n),
        FpsInput::Text(t) => Fps::parse(t),
    }
    // In u64: `MAX_FPS * den` overflows u32 for den > 4294967 ("1/4294968").
    .filter(|f| u64::from(f.num()) <= u64::from(MAX_FPS) * u64::from(f.den()));
    if fps.is_none() {
        let value = input.fps.to_string();
        problems.push((Field::Fps, Problem::InvalidFps { value }));
    }
    let playback_rate = match &input.playback_rate {
        None => Some(PlaybackRate::NORMAL),
        Some(FpsInput::Number(n)) => PlaybackRate::from_f64(*n),
        Some(FpsInput::Text(t)) => PlaybackRate::parse(t),
    };
    if playback_rate.is_none() {
        let value = input.playback_rate.as_ref().map(ToString::to_string);
        let value = value.unwrap_or_default();
        problems.push((Field::PlaybackRate, Problem::InvalidPlaybackRate { value }));
    }
    if let (Some(fps), Some(duration_us)) = (fps, duration_us) {
        let frames = fps.frames_in(duration_us);
        if frames > MAX_FRAMES_PER_ELEMENT {
            problems.push((
                Field::Duration,
                Problem::TooManyFrames {
                    frames,
                    max: MAX_FRAMES_PER_ELEMENT,
                },
            ));
        }
    }
    // A pass has a length when the trim or the source's end bounds it.
    if let Some(facts) = facts {
        let has_end = facts.is_some_and(SourceFacts::has_end);
        if input.looping && input.media_duration.is_none() && !has_end {
            problems.push((Field::Loop, Problem::LoopNeedsPassLength));
        }
    }
    let format = ImageFormat::parse(&input.format);
    if format.is_none() {
        let value = input.format.clone();
        problems.push((Field::Format, Problem::UnknownFormat { value }));
    }
    let transfer = match &input.sdr_to_hdr_transfer {
        None => Some(None),
        Some(t) => Transfer::parse(t).map(Some),
    };
    if transfer.is_none() {
        let value = input.sdr_to_hdr_transfer.clone().unwrap_or_default();
        problems.push((Field::SdrToHdrTransfer, Problem::UnknownTransfer { value }));
    }
    // Only checked: the identity reaches the plan through the source's facts.
    if let Some(value) = &input.identity {
        if IdentityMode::parse(value).is_none() {
            let value = value.clone();
            problems.push((Field::Identity, Problem::UnknownIdentity { value }));
        }
    }
    // A start at or past a known end of the source is no error: the element
    // shows the source's last frame (the plan warns about it).
    match (
        (start_us, duration_us, media_duration_us, timeline_start_us),
        (fps, playback_rate),
        (format, transfer),
    ) {
        (
            (Some(start_us), Some(duration_us), Some(media_duration_us), Some(timeline_start_us)),
            (Some(fps), Some(playback_rate)),
            (Some(format), Some(transfer)),
        ) if problems.is_empty() => Ok(Element {
            id: input.id.clone(),
            src: input.src.clone(),
            start_us,
            duration_us,
            timeline_start_us,
            media_duration_us,
            fps,
            playback_rate,
            looping: input.looping,
            format,
            transfer,
        }),
        _ => Err(problems),
    }
}

fn time_out_of_range(value: f64) -> Problem {
    Problem::TimeOutOfRange {
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_are_not_directory_names_are_refused() {
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", "a\0b", "tab\t", ".hidden", "con", "CON.txt",
            "lpt1", "x.", " x", "a:b",
        ] {
            assert!(check_id(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(check_id(&"x".repeat(129)).is_err());
        for good in [
            "bg-1",
            "title",
            "scene_2.clip",
            "x".repeat(128).as_str(),
            "console",
            "é",
        ] {
            assert!(check_id(good).is_ok(), "{good:?} should be accepted");
        }
    }
}
