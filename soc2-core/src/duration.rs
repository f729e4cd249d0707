//! Durations in configuration files, written like `"15m"`, `"2s"` or `"90d"`.
//!
//! For serde fields: `#[serde(default, deserialize_with = "soc2_core::duration::optional")]`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses `"15m"`, `"12h"`, `"90d"` (humantime syntax).
///
/// # Errors
/// A message naming the text and the expected form.
pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like \"15m\" or \"12h\": {e}"))
}

/// Deserializes an optional duration written as text (absent: `None`).
///
/// # Errors
/// When the text is not a duration.
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map(Some).map_err(serde::de::Error::custom)
}

/// Deserializes a limit that may be switched off: `"none"` gives `Some(None)`, a duration
/// `Some(Some(d))`, and an absent key (with `#[serde(default)]`) `None`.
///
/// # Errors
/// When the text is neither `"none"` nor a duration.
pub fn optional_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Duration>>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text == "none" {
        return Ok(Some(None));
    }
    humantime::parse_duration(&text)
        .map(|d| Some(Some(d)))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not \"none\" or a duration like \"1d\" or \"90d\": {e}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Limits {
        #[serde(default, deserialize_with = "optional")]
        idle: Option<Duration>,
        #[serde(default, deserialize_with = "optional_or_none")]
        max_age: Option<Option<Duration>>,
    }

    #[test]
    fn durations_and_none_parse() {
        let limits: Limits = serde_json::from_str(r#"{"idle": "15m", "max_age": "none"}"#).unwrap();
        assert_eq!(limits.idle, Some(Duration::from_secs(900)));
        assert_eq!(limits.max_age, Some(None));
        let limits: Limits = serde_json::from_str(r#"{"max_age": "90d"}"#).unwrap();
        assert_eq!(limits.idle, None);
        assert_eq!(limits.max_age, Some(Some(Duration::from_secs(90 * 86_400))));
        let error = serde_json::from_str::<Limits>(r#"{"idle": "soon"}"#).unwrap_err();
        assert!(
            error.to_string().contains("`soon` is not a duration"),
            "{error}"
        );
    }
}
