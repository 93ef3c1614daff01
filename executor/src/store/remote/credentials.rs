//! The AWS shared credentials and config files (the part framex needs).

use std::path::PathBuf;

/// Keys of one profile.
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

fn home_file(var: &str, rel: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(rel)))
}

fn profile_name() -> String {
    std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into())
}

/// The `key = value` pairs of section `name` of an INI file.
fn section(text: &str, names: &[String]) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = names.iter().any(|n| n == header.trim());
            continue;
        }
        if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    out
}

/// The profile's keys from `~/.aws/credentials`.
pub fn credentials() -> Option<Credentials> {
    let path = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")?;
    let text = std::fs::read_to_string(path).ok()?;
    let pairs = section(&text, &[profile_name()]);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Some(Credentials {
        access_key_id: get("aws_access_key_id")?,
        secret_access_key: get("aws_secret_access_key")?,
        session_token: get("aws_session_token"),
    })
}

/// The profile's region from `~/.aws/config`.
pub fn region() -> Option<String> {
    let path = home_file("AWS_CONFIG_FILE", ".aws/config")?;
    let text = std::fs::read_to_string(path).ok()?;
    let name = profile_name();
    let names = [format!("profile {name}"), name];
    section(&text, &names)
        .into_iter()
        .find(|(k, _)| k == "region")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_are_read_by_name() {
        let text = "[default]\naws_access_key_id = A\n# c\n[profile x]\nregion=eu-west-1\n";
        assert_eq!(
            super::section(text, &["default".into()]),
            vec![("aws_access_key_id".into(), "A".into())]
        );
        assert_eq!(
            super::section(text, &["profile x".into()]),
            vec![("region".into(), "eu-west-1".into())]
        );
    }
}
