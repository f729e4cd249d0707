//! The WebAuthn relying party of the passkey endpoints, from `[passkey]` and the server's
//! allowed origins (see the [config module docs](crate::config) for when passkeys are on).

use std::net::IpAddr;

use axum::http::Uri;
use soc2_auth::passkey::{PasskeyConfig as RelyingParty, PasskeyError};

use crate::{Config, ConfigError};

/// The relying party in force, or `None` when passkeys are off.
///
/// # Errors
/// [`ConfigError::Section`] (`[passkey]`) when passkeys are asked for, explicitly or by
/// `allowed_origins`, and the relying party cannot work.
pub(crate) fn relying_party(config: &Config) -> Result<Option<RelyingParty>, ConfigError> {
    let origins = &config.server.allowed_origins;
    match config.passkey.enabled {
        Some(false) => return Ok(None),
        None if origins.is_empty() => {
            tracing::info!(
                "passkeys off: set [server] allowed_origins to the https origins of the pages"
            );
            return Ok(None);
        }
        _ if origins.is_empty() => {
            return Err(refused(
                "passkeys need [server] allowed_origins: the listen address is an IP address, \
                 which cannot be a relying party id",
            ));
        }
        _ => {}
    }
    let rp_id = match &config.passkey.rp_id {
        Some(rp_id) => rp_id.clone(),
        None => host_of(&origins[0])?,
    };
    if rp_id.parse::<IpAddr>().is_ok() {
        return Err(refused(&format!(
            "`{rp_id}` is an IP address; the relying party id must be a domain (W3C WebAuthn \
             Level 3 §5.1.3)"
        )));
    }
    let rp_name = config
        .passkey
        .rp_name
        .as_ref()
        .unwrap_or(&config.server.name);
    let origins: Vec<&str> = origins.iter().map(String::as_str).collect();
    let mut relying_party = RelyingParty::new(&rp_id, rp_name, &origins).map_err(unusable)?;
    if let Some(ttl) = config.passkey.ceremony_ttl {
        relying_party = relying_party.with_ceremony_ttl(ttl).map_err(unusable)?;
    }
    Ok(Some(relying_party))
}

/// The host of an origin, without brackets around an IPv6 address.
fn host_of(origin: &str) -> Result<String, ConfigError> {
    origin
        .parse::<Uri>()
        .ok()
        .and_then(|uri| {
            uri.host()
                .map(|host| host.trim_matches(['[', ']']).to_owned())
        })
        .ok_or_else(|| {
            refused(&format!(
                "`{origin}` has no host to be the relying party id"
            ))
        })
}

/// The library's reason a relying party cannot work.
fn unusable(error: PasskeyError) -> ConfigError {
    match error {
        PasskeyError::Config(problem) => refused(&problem),
        other => refused(&other.to_string()),
    }
}

fn refused(problem: &str) -> ConfigError {
    ConfigError::Section(
        "passkey".into(),
        format!("{problem} (or set enabled = false)"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn config(origins: &str, passkey: &str) -> Config {
        Config::from_toml(&format!(
            "[server]\nallowed_origins = {origins}\n[passkey]\n{passkey}\n"
        ))
        .unwrap()
    }

    fn problem(config: &Config) -> String {
        match relying_party(config) {
            Err(ConfigError::Section(section, problem)) if section == "passkey" => problem,
            other => panic!("expected a [passkey] error, got {other:?}"),
        }
    }

    #[test]
    fn the_first_allowed_origin_names_the_relying_party() {
        let on = config(
            r#"["https://app.example", "https://admin.app.example"]"#,
            "",
        );
        assert_eq!(relying_party(&on).unwrap().unwrap().rp_id(), "app.example");
        let named = config(
            r#"["https://app.example", "https://b.example"]"#,
            "rp_id = \"example\"\nceremony_ttl = \"2m\"",
        );
        let named = relying_party(&named).unwrap().unwrap();
        assert_eq!(named.rp_id(), "example");
        assert_eq!(named.ceremony_ttl().as_secs(), 120);
        let local = config(r#"["http://localhost:3000"]"#, "");
        assert_eq!(relying_party(&local).unwrap().unwrap().rp_id(), "localhost");
    }

    #[test]
    fn without_allowed_origins_passkeys_are_off_unless_asked_for() {
        assert!(relying_party(&config("[]", "")).unwrap().is_none());
        assert!(
            relying_party(&config(r#"["https://a.example"]"#, "enabled = false"))
                .unwrap()
                .is_none()
        );
        assert!(problem(&config("[]", "enabled = true")).starts_with("passkeys need"));
        assert!(problem(&config("[]", "rp_name = \"Acme\"")).starts_with("passkeys need"));
    }

    #[test]
    fn unusable_relying_parties_stop_the_start() {
        for (origins, passkey, expected) in [
            (r#"["http://app.example"]"#, "", "is not https"),
            (r#"["https://127.0.0.1:8443"]"#, "", "is an IP address"),
            (r#"["https://[::1]:8443"]"#, "", "`::1` is an IP address"),
            (
                r#"["https://app.example", "https://other.test"]"#,
                "",
                "is not on the relying party id",
            ),
            (
                r#"["https://app.example"]"#,
                "ceremony_ttl = \"1h\"",
                "between",
            ),
        ] {
            let problem = problem(&config(origins, passkey));
            assert!(problem.contains(expected), "{origins}: {problem}");
            assert!(problem.ends_with("(or set enabled = false)"), "{problem}");
        }
    }
}
