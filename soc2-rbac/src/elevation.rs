//! Just-in-time elevations as stored: a time-bound role grant with a reason, requested by one
//! user and approved by another, and the changes a [`crate::RoleStore`] applies to them.

use soc2_core::{ElevationId, UserId};
use time::OffsetDateTime;

use crate::{RoleName, SodConflict, SodRules};

/// Where an elevation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ElevationStatus {
    /// Waiting for a second person's decision.
    Pending,
    /// Approved (or granted as break-glass): the role counts from the decision until it
    /// expires or is revoked.
    Approved,
    /// Refused by a second person.
    Denied,
    /// Ended early.
    Revoked,
    /// Past its expiry while pending or approved. Never stored: see [`Elevation::status_at`].
    Expired,
}

impl ElevationStatus {
    /// The status's stable name, e.g. `pending`, as stored and audited.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// The status named `name` (as [`ElevationStatus::as_str`] writes it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Approved,
            Self::Denied,
            Self::Revoked,
            Self::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

/// One elevation: `user` may act with `role` from its approval until `expires_at`.
///
/// The window is fixed when the elevation is requested (`requested_at` plus the requested
/// duration): a late approval shortens it, never extends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elevation {
    /// The elevation's id.
    pub id: ElevationId,
    /// Who gets the role.
    pub user: UserId,
    /// The role granted for the window.
    pub role: RoleName,
    /// Why the role is needed, e.g. a ticket reference; audited.
    pub reason: String,
    /// Who asked (the user, or someone on their behalf); may not approve it.
    pub requested_by: UserId,
    /// When it was asked for.
    pub requested_at: OffsetDateTime,
    /// When it ends on its own, whatever its status.
    pub expires_at: OffsetDateTime,
    /// Granted without approval under a break-glass policy.
    pub break_glass: bool,
    /// The status as last changed (never [`ElevationStatus::Expired`]).
    pub status: ElevationStatus,
    /// Who approved or denied it (`None` while pending, and for break-glass grants).
    pub decided_by: Option<UserId>,
    /// When it was approved or denied (for break-glass grants: when requested).
    pub decided_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

impl Elevation {
    /// The status at `at`: [`ElevationStatus::Expired`] once a pending or approved elevation
    /// reaches `expires_at`, the stored status otherwise.
    #[must_use]
    pub fn status_at(&self, at: OffsetDateTime) -> ElevationStatus {
        match self.status {
            ElevationStatus::Pending | ElevationStatus::Approved if at >= self.expires_at => {
                ElevationStatus::Expired
            }
            status => status,
        }
    }

    /// True when the role counts at `at`: approved, decided at or before `at`, not expired and
    /// not revoked.
    #[must_use]
    pub fn is_active(&self, at: OffsetDateTime) -> bool {
        self.status_at(at) == ElevationStatus::Approved
            && self.decided_at.is_some_and(|decided| decided <= at)
    }
}

/// A change to a stored elevation, applied by [`crate::RoleStore::change_elevation`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ElevationChange<'a> {
    /// Approve a pending, unexpired elevation unless the user would then violate one of
    /// `rules` (counting assigned, inherited and other active elevated roles).
    Approve {
        /// The approver.
        by: UserId,
        /// The segregation-of-duties rules in force.
        rules: &'a SodRules,
    },
    /// Deny a pending, unexpired elevation.
    Deny {
        /// Who denied it.
        by: UserId,
    },
    /// End an approved, unexpired elevation now.
    Revoke,
}

impl ElevationChange<'_> {
    /// The status an elevation must have at the change's instant for the change to apply.
    #[must_use]
    pub const fn requires(&self) -> ElevationStatus {
        match self {
            Self::Approve { .. } | Self::Deny { .. } => ElevationStatus::Pending,
            Self::Revoke => ElevationStatus::Approved,
        }
    }

    /// `elevation` after the change at `at` (whether it applies is the store's check).
    #[must_use]
    pub fn apply(&self, elevation: &Elevation, at: OffsetDateTime) -> Elevation {
        let mut changed = elevation.clone();
        match *self {
            Self::Approve { by, .. } => {
                changed.status = ElevationStatus::Approved;
                changed.decided_by = Some(by);
                changed.decided_at = Some(at);
            }
            Self::Deny { by } => {
                changed.status = ElevationStatus::Denied;
                changed.decided_by = Some(by);
                changed.decided_at = Some(at);
            }
            Self::Revoke => {
                changed.status = ElevationStatus::Revoked;
                changed.revoked_at = Some(at);
            }
        }
        changed
    }
}

/// What a [`crate::RoleStore::change_elevation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElevationUpdate {
    /// The change was applied; the elevation as it is now.
    Applied(Elevation),
    /// Approving would have violated a segregation-of-duties rule; nothing changed.
    Refused {
        /// The elevation, unchanged.
        elevation: Elevation,
        /// The rule and the roles of its set the user would hold.
        conflict: SodConflict,
    },
    /// The elevation's status at that instant does not allow the change (already decided,
    /// revoked, expired, or not approved yet); nothing changed. The elevation as it is.
    Stale(Elevation),
    /// No elevation has that id.
    NotFound,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::Duration;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn status_and_activity_follow_the_window() {
        let t0 = datetime!(2026-11-23 09:00 UTC);
        let mut elevation = Elevation {
            id: ElevationId::new_v7(),
            user: UserId::new_v7(),
            role: RoleName::new("approver").unwrap(),
            reason: "CHG-7".into(),
            requested_by: UserId::new_v7(),
            requested_at: t0,
            expires_at: t0 + Duration::hours(2),
            break_glass: false,
            status: ElevationStatus::Pending,
            decided_by: None,
            decided_at: None,
            revoked_at: None,
        };
        assert_eq!(elevation.status_at(t0), ElevationStatus::Pending);
        assert!(!elevation.is_active(t0));
        elevation.status = ElevationStatus::Approved;
        elevation.decided_at = Some(t0 + Duration::hours(1));
        assert!(!elevation.is_active(t0), "not before its approval");
        assert!(elevation.is_active(t0 + Duration::hours(1)));
        let end = elevation.expires_at;
        assert!(elevation.is_active(end - Duration::microseconds(1)));
        assert!(!elevation.is_active(end));
        assert_eq!(elevation.status_at(end), ElevationStatus::Expired);
        elevation.status = ElevationStatus::Revoked;
        assert_eq!(elevation.status_at(end), ElevationStatus::Revoked);
        for status in [
            ElevationStatus::Pending,
            ElevationStatus::Approved,
            ElevationStatus::Denied,
            ElevationStatus::Revoked,
            ElevationStatus::Expired,
        ] {
            assert_eq!(ElevationStatus::from_name(status.as_str()), Some(status));
        }
        assert_eq!(ElevationStatus::from_name("Pending"), None);
    }
}
