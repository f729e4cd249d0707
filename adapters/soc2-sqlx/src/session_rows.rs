//! The session row shape shared by both databases.

use soc2_core::{StoreError, unix_micros};
use soc2_session::{AuthLevel, Factor, SessionRecord, TokenDigest};

use crate::rows::{corrupt, instant};

/// The columns every session query selects, in `SessionRow` order.
macro_rules! session_columns {
    () => {
        "token_digest, session_id, user_id, created_at_us, last_seen_at_us, idle_expires_at_us, \
         absolute_expires_at_us, authenticated_at_us, factors, mfa_verified_at_us, client_ip, \
         user_agent"
    };
}
pub(crate) use session_columns;

/// The row kind named in `Corrupt` errors.
const ROW: &str = "session";

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    token_digest: Vec<u8>,
    session_id: String,
    user_id: String,
    created_at_us: i64,
    last_seen_at_us: i64,
    idle_expires_at_us: i64,
    absolute_expires_at_us: i64,
    authenticated_at_us: i64,
    factors: String,
    mfa_verified_at_us: Option<i64>,
    client_ip: Option<String>,
    user_agent: Option<String>,
}

/// A session as bind values, in `session_columns!()` order.
pub(crate) struct SessionValues {
    pub(crate) token_digest: Vec<u8>,
    pub(crate) session_id: String,
    pub(crate) user_id: String,
    pub(crate) created_at_us: i64,
    pub(crate) last_seen_at_us: i64,
    pub(crate) idle_expires_at_us: i64,
    pub(crate) absolute_expires_at_us: i64,
    pub(crate) authenticated_at_us: i64,
    pub(crate) factors: String,
    pub(crate) mfa_verified_at_us: Option<i64>,
    pub(crate) client_ip: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl From<&SessionRecord> for SessionValues {
    fn from(record: &SessionRecord) -> Self {
        Self {
            token_digest: record.digest.as_bytes().to_vec(),
            session_id: record.id.to_string(),
            user_id: record.user_id.to_string(),
            created_at_us: unix_micros(record.created_at),
            last_seen_at_us: unix_micros(record.last_seen_at),
            idle_expires_at_us: unix_micros(record.idle_expires_at),
            absolute_expires_at_us: unix_micros(record.absolute_expires_at),
            authenticated_at_us: unix_micros(record.auth.authenticated_at),
            factors: record
                .auth
                .factors
                .iter()
                .map(|factor| factor.name())
                .collect::<Vec<_>>()
                .join(","),
            mfa_verified_at_us: record.auth.mfa_verified_at.map(unix_micros),
            client_ip: record.client_ip.map(|ip| ip.to_string()),
            user_agent: record.user_agent.clone(),
        }
    }
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        let digest = <[u8; 32]>::try_from(row.token_digest.as_slice())
            .map_err(|_| corrupt(ROW, "token digest is not 32 bytes"))?;
        let factors = row
            .factors
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| Factor::from_name(name).ok_or_else(|| corrupt(ROW, "unknown factor")))
            .collect::<Result<_, _>>()?;
        Ok(SessionRecord {
            id: row
                .session_id
                .parse()
                .map_err(|_| corrupt(ROW, "session id is not a UUID"))?,
            digest: TokenDigest::from_bytes(digest),
            user_id: row
                .user_id
                .parse()
                .map_err(|_| corrupt(ROW, "user id is not a UUID"))?,
            created_at: instant(row.created_at_us, ROW)?,
            last_seen_at: instant(row.last_seen_at_us, ROW)?,
            idle_expires_at: instant(row.idle_expires_at_us, ROW)?,
            absolute_expires_at: instant(row.absolute_expires_at_us, ROW)?,
            auth: AuthLevel {
                authenticated_at: instant(row.authenticated_at_us, ROW)?,
                factors,
                mfa_verified_at: row
                    .mfa_verified_at_us
                    .map(|micros| instant(micros, ROW))
                    .transpose()?,
            },
            client_ip: row
                .client_ip
                .map(|ip| {
                    ip.parse()
                        .map_err(|_| corrupt(ROW, "client ip does not parse"))
                })
                .transpose()?,
            user_agent: row.user_agent,
        })
    }
}
