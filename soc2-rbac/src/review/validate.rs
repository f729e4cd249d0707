//! Limits on what callers and the host hand in, checked before anything is stored.
//!
//! Every limit follows OWASP ASVS 4.0.3 V5.1.4 (structured data validated against a defined
//! schema, including allowed characters and length): input outside it is refused with a
//! typed error, never truncated, so a stored decision is exactly what the reviewer wrote.

use soc2_core::truncate_to_micros;
use time::OffsetDateTime;

use super::{CampaignSpec, ReviewDecision, ReviewScope, SubjectInfo};

/// Longest campaign name, in bytes (OWASP ASVS 4.0.3 V5.1.4).
pub const MAX_CAMPAIGN_NAME_BYTES: usize = 200;
/// Most reviewers in one campaign (OWASP ASVS 4.0.3 V5.1.4).
pub const MAX_REVIEWERS: usize = 1000;
/// Most roles in one campaign's scope (OWASP ASVS 4.0.3 V5.1.4).
pub const MAX_SCOPE_ROLES: usize = 1000;
/// Longest decision comment, in bytes (OWASP ASVS 4.0.3 V5.1.4).
pub const MAX_COMMENT_BYTES: usize = 2000;
/// Longest username the host may report for a reviewed user, in bytes (OWASP ASVS 4.0.3
/// V5.1.4; the audit log's name bound).
pub const MAX_USERNAME_BYTES: usize = soc2_audit::MAX_NAME_BYTES;

/// Why a [`CampaignSpec`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The name is empty, too long or has control characters.
    #[error(
        "a campaign name is 1-{} bytes of printable text",
        MAX_CAMPAIGN_NAME_BYTES
    )]
    Name,
    /// No reviewers, or too many.
    #[error("a campaign needs 1-{} reviewers", MAX_REVIEWERS)]
    Reviewers,
    /// A role scope without roles, or with too many.
    #[error("a role scope needs 1-{} roles", MAX_SCOPE_ROLES)]
    Roles,
    /// The due date is not after the start.
    #[error("the due date must be in the future")]
    DueDate,
}

/// Why a decision's comment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommentError {
    /// A revoke needs a reason.
    #[error("a revoke needs a comment saying why")]
    Required,
    /// Longer than [`MAX_COMMENT_BYTES`].
    #[error("comments are at most {} bytes", MAX_COMMENT_BYTES)]
    TooLong,
    /// Control characters other than tab and line breaks.
    #[error("comments may not contain control characters")]
    ControlCharacter,
}

/// `spec` with the name trimmed, reviewers deduplicated (first occurrence kept), scope roles
/// sorted and deduplicated and the due date at store precision; refused when invalid.
pub(crate) fn spec(mut spec: CampaignSpec, now: OffsetDateTime) -> Result<CampaignSpec, SpecError> {
    spec.name = spec.name.trim().to_owned();
    if spec.name.is_empty()
        || spec.name.len() > MAX_CAMPAIGN_NAME_BYTES
        || spec.name.chars().any(char::is_control)
    {
        return Err(SpecError::Name);
    }
    let mut seen = std::collections::BTreeSet::new();
    spec.reviewers.retain(|reviewer| seen.insert(*reviewer));
    if spec.reviewers.is_empty() || spec.reviewers.len() > MAX_REVIEWERS {
        return Err(SpecError::Reviewers);
    }
    if let ReviewScope::Roles(roles) = &mut spec.scope {
        roles.sort_unstable();
        roles.dedup();
        if roles.is_empty() || roles.len() > MAX_SCOPE_ROLES {
            return Err(SpecError::Roles);
        }
    }
    spec.due_at = truncate_to_micros(spec.due_at);
    if spec.due_at <= now {
        return Err(SpecError::DueDate);
    }
    Ok(spec)
}

/// The comment to store: trimmed, `None` when empty; required for a revoke.
pub(crate) fn comment(
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<Option<String>, CommentError> {
    let comment = comment.map(str::trim).filter(|text| !text.is_empty());
    match comment {
        None if decision == ReviewDecision::Revoke => Err(CommentError::Required),
        None => Ok(None),
        Some(text) if text.len() > MAX_COMMENT_BYTES => Err(CommentError::TooLong),
        Some(text)
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            Err(CommentError::ControlCharacter)
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// `facts` at store precision, or why they cannot be stored.
pub(crate) fn facts(mut facts: SubjectInfo) -> Result<SubjectInfo, String> {
    if facts.username.len() > MAX_USERNAME_BYTES {
        return Err(format!("username longer than {MAX_USERNAME_BYTES} bytes"));
    }
    facts.last_login = facts.last_login.map(truncate_to_micros);
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_trimmed_bounded_and_required_for_revoke() {
        use ReviewDecision::{Keep, Revoke};
        assert_eq!(comment(Keep, None), Ok(None));
        assert_eq!(comment(Keep, Some("  ")), Ok(None));
        assert_eq!(comment(Revoke, Some(" \n ")), Err(CommentError::Required));
        assert_eq!(
            comment(Revoke, Some(" left the team\r\n")),
            Ok(Some("left the team".into()))
        );
        let longest = "é".repeat(MAX_COMMENT_BYTES / 2);
        assert_eq!(comment(Keep, Some(&longest)), Ok(Some(longest.clone())));
        assert_eq!(
            comment(Keep, Some(&format!("{longest}x"))),
            Err(CommentError::TooLong)
        );
        assert_eq!(
            comment(Keep, Some("a\u{0}b")),
            Err(CommentError::ControlCharacter)
        );
        assert_eq!(
            comment(Keep, Some("a\u{1b}[31mb")),
            Err(CommentError::ControlCharacter)
        );
    }
}
