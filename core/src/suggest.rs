//! "Did you mean …?" for misspelt field and variant names: serde names the
//! unknown one and lists the expected ones; the closest of those, by edit
//! distance, is added to the message.

/// Names longer than this get no suggestion (nobody misspells a 65-byte
/// field; a hostile one must not cost quadratic time).
const LONGEST_NAME: usize = 64;

/// `message` with a hint inserted after the unknown name, when serde's
/// message names an unknown field or variant and one of the expected names is
/// close to it:
///
/// ```
/// let message = "unknown field `durration`, expected one of `id`, `duration`, `fps`";
/// assert_eq!(
///     framex_core::with_suggestion(message),
///     "unknown field `durration` (did you mean `duration`?), expected one of `id`, `duration`, `fps`"
/// );
/// ```
///
/// Any other message comes back unchanged.
pub fn with_suggestion(message: &str) -> String {
    match suggestion(message) {
        Some((at, name)) => format!(
            "{} (did you mean `{name}`?){}",
            &message[..at],
            &message[at..]
        ),
        None => message.to_string(),
    }
}

/// Where to insert the hint (after the unknown name's closing backtick), and
/// the name to suggest.
fn suggestion(message: &str) -> Option<(usize, &str)> {
    let start = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix).map(|_| prefix.len()))?;
    let end = start + message[start..].find('`')?;
    let unknown = &message[start..end];
    let expected = message[end + 1..].strip_prefix(", expected ")?;
    // The expected names are the backtick-quoted words: every other piece.
    let names = expected.split('`').skip(1).step_by(2);
    closest(unknown, names).map(|name| (end + 1, name))
}

/// The name closest to `unknown`: the same but for case, or at most a third
/// of its letters away (one for short names), by optimal string alignment
/// distance (a swap of two neighbours counts once). The first wins a tie.
fn closest<'a>(unknown: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    if unknown.is_empty() || unknown.len() > LONGEST_NAME {
        return None;
    }
    let lower = unknown.to_lowercase();
    let limit = (unknown.chars().count() / 3).max(1);
    names
        .filter(|name| name.len() <= LONGEST_NAME)
        .map(|name| (strsim::osa_distance(&lower, &name.to_lowercase()), name))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELEMENT: &str = "expected one of `id`, `src`, `mediaStart`, `duration`, \
        `mediaDuration`, `fps`, `playbackRate`, `loop`, `format`, `sdrToHdrTransfer`, `identity`";

    fn hint(unknown: &str) -> Option<String> {
        let message = format!("unknown field `{unknown}`, {ELEMENT}");
        let hinted = with_suggestion(&message);
        (hinted != message).then(|| {
            let start = hinted.find("(did you mean `").unwrap() + 15;
            hinted[start..start + hinted[start..].find('`').unwrap()].to_string()
        })
    }

    #[test]
    fn typos_get_the_closest_field() {
        assert_eq!(hint("durration").as_deref(), Some("duration"));
        assert_eq!(hint("mediastart").as_deref(), Some("mediaStart"));
        assert_eq!(hint("media_start").as_deref(), Some("mediaStart"));
        assert_eq!(hint("playback_rate").as_deref(), Some("playbackRate"));
        assert_eq!(hint("fsp").as_deref(), Some("fps"), "a swap counts once");
        assert_eq!(hint("Loop").as_deref(), Some("loop"));
        assert_eq!(hint("formt").as_deref(), Some("format"));
    }

    #[test]
    fn unrelated_names_get_none() {
        for unknown in ["framerate", "x", "", "start", "speed", &"d".repeat(100)] {
            assert_eq!(hint(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn the_hint_follows_the_unknown_name() {
        assert_eq!(
            with_suggestion("unknown field `fsp`, expected `fps` or `id`"),
            "unknown field `fsp` (did you mean `fps`?), expected `fps` or `id`"
        );
        assert_eq!(
            with_suggestion("unknown variant `fil`, expected one of `file`, `content`, `name`"),
            "unknown variant `fil` (did you mean `file`?), expected one of `file`, `content`, `name`"
        );
        for unchanged in [
            "unknown field `a`, there are no fields",
            "missing field `fps`",
            "invalid type: string \"0\", expected f64",
            "unknown field `unterminated",
        ] {
            assert_eq!(with_suggestion(unchanged), unchanged);
        }
    }
}
