//! Timestamps as stores keep them: microseconds since the Unix epoch, UTC.

use time::OffsetDateTime;

/// Microseconds since the Unix epoch, saturating outside the `i64` range.
#[must_use]
pub fn unix_micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(if at.unix_timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The instant `micros` microseconds after the Unix epoch, in UTC; `None` outside the range
/// `time` represents (a corrupt row).
#[must_use]
pub fn from_unix_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

/// `at` in UTC, cut to whole microseconds: the precision every store keeps, so a value read
/// back equals the value written.
#[must_use]
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(at.nanosecond() / 1000 * 1000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn micros_round_trip() {
        let at = datetime!(2026-11-23 09:00:00.123456789 +02:00);
        let truncated = truncate_to_micros(at);
        assert_eq!(truncated, datetime!(2026-11-23 07:00:00.123456 UTC));
        assert_eq!(unix_micros(truncated), 1_795_417_200_123_456);
        assert_eq!(from_unix_micros(unix_micros(truncated)), Some(truncated));
        assert_eq!(from_unix_micros(i64::MAX), None);
    }
}
