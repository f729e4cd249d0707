//! The session row shape shared by both databases.

use soc2_core::{StoreError, from_unix_micros, unix_micros};
use soc2_session::{AuthLevel, Factor, SessionRecord, TokenDigest};
use time::OffsetDateTime;

/// The columns every session query selects, in `SessionRow` order.
macro_rules! session_columns {
    () => {
        "token_digest, session_id, user_id, created_at_us, last_seen_at_us, idle_expires_at_us, \
         absolute_expires_at_us, authenticated_at_us, factors, mfa_verified_at_us, client_ip, \
         user_agent"
    };
}
pub(crate) use session_columns;

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
            .map_err(|_| corrupt("token digest is not 32 bytes"))?;
        let factors = row
            .factors
            .split(',')
            .filter(|name| !name.is_empty())
            .map(|name| Factor::from_name(name).ok_or_else(|| corrupt("unknown factor")))
            .collect::<Result<_, _>>()?;
        Ok(SessionRecord {
            id: row
                .session_id
                .parse()
                .map_err(|_| corrupt("session id is not a UUID"))?,
            digest: TokenDigest::from_bytes(digest),
            user_id: row
                .user_id
                .parse()
                .map_err(|_| corrupt("user id is not a UUID"))?,
            created_at: time_of(row.created_at_us)?,
            last_seen_at: time_of(row.last_seen_at_us)?,
            idle_expires_at: time_of(row.idle_expires_at_us)?,
            absolute_expires_at: time_of(row.absolute_expires_at_us)?,
            auth: AuthLevel {
                authenticated_at: time_of(row.authenticated_at_us)?,
                factors,
                mfa_verified_at: row.mfa_verified_at_us.map(time_of).transpose()?,
            },
            client_ip: row
                .client_ip
                .map(|ip| ip.parse().map_err(|_| corrupt("client ip does not parse")))
                .transpose()?,
            user_agent: row.user_agent,
        })
    }
}

fn time_of(micros: i64) -> Result<OffsetDateTime, StoreError> {
    from_unix_micros(micros).ok_or_else(|| corrupt("timestamp out of range"))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("session row: {what}"))
}
