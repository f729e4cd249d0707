//! Helpers shared by the policies' TOML forms.

/// Serde adapter for an optional duration written like `"15m"`, `"2s"` or `"90d"`.
pub(crate) mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration like \"15m\" or \"12h\": {e}"
            ))
        })
    }
}
