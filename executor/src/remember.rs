//! Best-effort JSON records beside the store (a probe, a file's digest, a
//! download's validators): a failed write only costs the work again next
//! time.

use std::path::Path;

use serde::Serialize;

/// Writes `value` as JSON to `path`, through a temporary name and a rename so
/// that a reader never sees half a file. Errors are ignored; a failed write
/// leaves no temporary file behind.
pub(crate) fn remember_json(path: &Path, value: &impl Serialize) {
    let Ok(json) = serde_json::to_vec(value) else {
        return;
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    if std::fs::write(&tmp, json).is_err() || std::fs::rename(&tmp, path).is_err() {
        // A full disk: leave no empty or half-written file behind.
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_written_whole_and_a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/record.json");
        remember_json(&path, &serde_json::json!({"n": 1}));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), r#"{"n":1}"#);
        // A directory in the record's place: the rename fails.
        let blocked = dir.path().join("blocked.json");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "").unwrap();
        remember_json(&blocked, &1);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
