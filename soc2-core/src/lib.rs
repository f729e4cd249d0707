#![doc = include_str!("../README.md")]

pub mod changes;
mod clock;
mod context;
pub mod duration;
mod error;
mod fed_cache;
mod follower;
mod id;
mod keyring;
mod micros;
mod preset;
mod secret;

pub use changes::{Change, ChangeFeed, ChangePublisher, ChangeSubscription};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::{MAX_REQUEST_ID_BYTES, MAX_USER_AGENT_BYTES, RequestContext};
pub use error::{BoxError, StoreError};
pub use fed_cache::{FedCache, Invalidation, Ticket};
pub use follower::ChangeFollower;
pub use id::{ElevationId, EventId, ReviewCampaignId, ReviewItemId, SessionId, UserId};
pub use keyring::{KEY_LEN, KeyId, KeyRing, KeyRingError};
pub use micros::{from_unix_micros, truncate_to_micros, unix_micros};
pub use preset::Preset;
pub use secret::{Secret, SecretBytes, SecretString};

/// Truncates `text` to at most `max_bytes` bytes without splitting a character.
///
/// Used wherever untrusted text (user agents, request ids, audit reasons) is stored, so an
/// oversized header can never bloat a row or a log line.
#[must_use]
pub fn truncate_to_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate_to_char_boundary;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_to_char_boundary("héllo", 2), "h");
        assert_eq!(truncate_to_char_boundary("héllo", 3), "hé");
        assert_eq!(truncate_to_char_boundary("abc", 10), "abc");
        assert_eq!(truncate_to_char_boundary("", 0), "");
    }
}
