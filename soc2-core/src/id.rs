//! Typed identifiers: a `UserId` can never be passed where a `SessionId` is expected.

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            #[must_use]
            pub fn new_v7() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            #[must_use]
            pub const fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A user account of the host application.
    UserId
);
uuid_id!(
    /// A server-side session (not its token: tokens are secrets, ids are not).
    SessionId
);
uuid_id!(
    /// One audit event.
    EventId
);
uuid_id!(
    /// One just-in-time role elevation (request, approval and grant).
    ElevationId
);
uuid_id!(
    /// An access-review campaign.
    ReviewCampaignId
);
uuid_id!(
    /// One item of an access-review campaign: one user's one role.
    ReviewItemId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = UserId::new_v7();
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
    }

    #[test]
    fn v7_ids_sort_by_creation() {
        let first = EventId::new_v7();
        let second = EventId::new_v7();
        assert!(first < second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!("not-a-uuid".parse::<SessionId>().is_err());
    }
}
