//! Building the application: stores, services, the session layer and the router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use soc2_audit::{AuditError, AuditLog, AuditLogConfig, AuditSink, AuditStore};
use soc2_auth::login::{Authenticator, MfaPolicy, MfaRequirement};
use soc2_auth::mfa::{MfaAuth, TotpSettings};
use soc2_auth::passkey::PasskeyAuth;
use soc2_auth::password::PasswordChecker;
use soc2_auth::{CredentialStore, HashParams, PasswordAuth, PasswordHasher, Sealer};
use soc2_core::{ChangeFeed, ChangeFollower, Clock, KeyRing, SecretString};
use soc2_rbac::{
    Authorizer, CachedRoleStore, DEFAULT_DEBOUNCE, PolicyStore, PolicyWatcher, RoleManager,
    RoleName, RoleStore,
};
use soc2_session::SessionManager;
use soc2_tower::{AllowedOrigins, SessionCookie, SessionLayer, TrustedProxies};
use tokio::net::TcpListener;

use crate::changes::{ChangeStore, Resources};
use crate::database::{self, Backend};
use crate::feed;
use crate::rbac::HeldRoles;
use crate::redis_stores::RedisStores;
use crate::sweeper::{Housekeeping, SweepError, Sweeper, Swept};
use crate::{Config, ConfigError, StartError, bootstrap, keys, passkeys, routes};

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) auth: PasswordAuth,
    /// The login flow: password, then a second factor or a required change.
    pub(crate) login: Authenticator,
    /// Second factors: enrolment, checks, recovery codes.
    pub(crate) mfa: MfaAuth,
    /// Passkeys, when a relying party is configured (`[passkey]`).
    pub(crate) passkeys: Option<PasskeyAuth>,
    /// Whether everyone must prove a second factor (`[mfa] required`).
    pub(crate) mfa_required: bool,
    pub(crate) sessions: SessionManager,
    pub(crate) credentials: Arc<dyn CredentialStore>,
    pub(crate) audit_store: Arc<dyn AuditStore>,
    pub(crate) audit: AuditLog,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) cookie: SessionCookie,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) allow_registration: bool,
    /// The Cedar policy set in force (reloadable).
    pub(crate) policies: Arc<PolicyStore>,
    /// Role assignments.
    pub(crate) roles: Arc<dyn RoleStore>,
    /// Audited grants and revocations under the SoD rules.
    pub(crate) role_manager: RoleManager,
    /// Change requests.
    pub(crate) changes: ChangeStore,
}

/// The running application: its router, the stores its sweeper cleans, the change feed its
/// caches follow and the audit log to flush at shutdown.
#[derive(Debug)]
pub struct App {
    router: Router,
    audit: AuditLog,
    changes: ChangeFeed,
    /// Taken and stopped at shutdown.
    follower: Mutex<Option<ChangeFollower>>,
    /// The follower of the Redis change channel the session cache follows when sessions are
    /// on Redis; taken and stopped at shutdown.
    session_follower: Mutex<Option<ChangeFollower>>,
    housekeeping: Housekeeping,
    sweep_interval: Duration,
    generated_admin_password: Option<SecretString>,
    policy_watcher: Option<PolicyWatcher>,
}

impl App {
    /// Opens the database of `config` (migrating it) and, with `server.redis_url`, connects
    /// to Redis for sessions and lockouts; loads or generates the audit and secret-sealing
    /// keys, creates the first administrator on an empty database, and builds the router. Every
    /// time-dependent control reads `clock`.
    ///
    /// # Errors
    /// [`StartError`] naming what is missing or refused.
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let url = config.database_url();
        let relying_party = passkeys::relying_party(config)?;
        let redis = RedisStores::open(config).await?;
        let sqlite_file = match Backend::of(url)? {
            Backend::Sqlite(file) => file,
            Backend::Postgres => None,
        };
        let keys = Arc::new(keys::audit_keys(&config.audit, sqlite_file.as_deref())?);
        let sealer = Sealer::new(keys::sealing_keys(&config.mfa, sqlite_file.as_deref())?);
        let mut stores = database::open(url, &keys, redis.is_none()).await?;
        let follower = feed::follow(&stores.changes, config.server.change_poll_interval).await?;
        let changes = follower.feed().clone();
        let session_follower = match &redis {
            Some(redis) => {
                tracing::info!(
                    redis = %redis.url_for_logs(),
                    prefix = %redis.prefix(),
                    "sessions and lockouts (account and per-IP) on Redis; everything else on the database"
                );
                stores.sessions = Arc::new(redis.sessions.clone());
                stores.lockouts = Arc::new(redis.lockouts.clone());
                if config.session_cache {
                    Some(redis.follow().await?)
                } else {
                    None
                }
            }
            None => None,
        };
        let session_changes = session_follower
            .as_ref()
            .map_or_else(|| changes.clone(), |follower| follower.feed().clone());
        let audit = AuditLog::start(
            Arc::clone(&stores.audit) as Arc<dyn AuditSink>,
            AuditLogConfig::default(),
        );
        let mut sessions = SessionManager::new(
            stores.sessions,
            config.session.clone(),
            Arc::clone(&clock),
            audit.clone(),
        );
        if config.session_cache {
            sessions =
                sessions.with_cache_fed_by(&session_changes, config.session_cache_max_staleness);
        }
        let auth = PasswordAuth::new(
            Arc::clone(&stores.credentials),
            Arc::clone(&stores.lockouts),
            PasswordHasher::new(HashParams::default())?,
            audit.clone(),
            Arc::clone(&clock),
        )
        .with_checker(PasswordChecker::new(config.password.clone()))
        .with_lockout_policy(config.lockout.clone())
        .with_app_name(&config.server.name);
        let mfa = MfaAuth::new(
            Arc::clone(&stores.mfa),
            Arc::clone(&stores.lockouts),
            sealer,
            TotpSettings::new(&config.server.name),
            audit.clone(),
            Arc::clone(&clock),
        )
        .with_lockout_policy(config.lockout.clone());
        let passkeys = relying_party.map(|relying_party| {
            PasskeyAuth::new(
                relying_party,
                stores.passkeys,
                Arc::clone(&stores.mfa),
                stores.lockouts,
                audit.clone(),
                Arc::clone(&clock),
            )
            .with_lockout_policy(config.lockout.clone())
        });
        let policies = Arc::new(
            PolicyStore::open(&config.server.policy_dir, audit.clone(), Arc::clone(&clock)).await?,
        );
        let policy_watcher = config
            .server
            .watch_policies
            .then(|| PolicyWatcher::start(Arc::clone(&policies), DEFAULT_DEBOUNCE))
            .transpose()?;
        let roles: Arc<dyn RoleStore> = if config.server.role_cache {
            Arc::new(CachedRoleStore::new(Arc::clone(&stores.roles), &changes))
        } else {
            Arc::clone(&stores.roles)
        };
        let role_manager = RoleManager::new(
            Arc::clone(&roles),
            Arc::clone(&policies),
            audit.clone(),
            Arc::clone(&clock),
        );
        let authorizer = Authorizer::new(
            Arc::clone(&policies),
            Arc::clone(&roles),
            Arc::new(Resources {
                changes: stores.changes.clone(),
            }),
            audit.clone(),
            Arc::clone(&clock),
        );
        let mfa_policy = mfa_policy(config, &roles, &clock)?;
        let mut login = Authenticator::new(
            auth.clone(),
            mfa.clone(),
            sessions.clone(),
            Arc::clone(&stores.mfa),
            audit.clone(),
            Arc::clone(&clock),
        )
        .with_mfa_policy(mfa_policy);
        if let Some(passkeys) = &passkeys {
            login = login.with_passkeys(passkeys.clone());
        }
        let generated_admin_password = bootstrap::ensure_admin(
            &auth,
            &role_manager,
            stores.audit.as_ref(),
            config.server.bootstrap_admin_password.as_ref(),
        )
        .await?;
        let layer = session_layer(config, &sessions, &clock)?.with_authorizer(authorizer);
        let housekeeping = Housekeeping {
            sessions: sessions.clone(),
            ceremonies: stores.mfa,
            clock: Arc::clone(&clock),
        };
        let state = AppState {
            auth,
            login,
            mfa,
            passkeys,
            mfa_required: config.mfa.required,
            sessions,
            credentials: stores.credentials,
            audit_store: stores.audit,
            audit: audit.clone(),
            keys,
            cookie: layer.cookie().clone(),
            clock,
            allow_registration: config.server.allow_registration,
            policies,
            roles,
            role_manager,
            changes: stores.changes,
        };
        Ok(Self {
            router: routes::router(state).layer(layer),
            audit,
            changes,
            follower: Mutex::new(Some(follower)),
            session_follower: Mutex::new(session_follower),
            housekeeping,
            sweep_interval: config.session_sweep_interval,
            generated_admin_password,
            policy_watcher,
        })
    }

    /// The router (serve it with `ConnectInfo<SocketAddr>`, as [`serve`] does).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The administrator password generated on an empty database (print it once), if any.
    #[must_use]
    pub fn generated_admin_password(&self) -> Option<&SecretString> {
        self.generated_admin_password.as_ref()
    }

    /// Deletes every expired session (each audited as `session.expired`) and ceremony now:
    /// what the sweeper that [`serve`] runs does every `[session] sweep_interval`.
    ///
    /// # Errors
    /// [`SweepError`] when a store or the audit log fails.
    pub async fn sweep(&self) -> Result<Swept, SweepError> {
        self.housekeeping.sweep().await
    }

    /// The policy directory watcher, when `server.watch_policies` is on (subscribe to its
    /// reloads).
    #[must_use]
    pub fn policy_watcher(&self) -> Option<&PolicyWatcher> {
        self.policy_watcher.as_ref()
    }

    /// The changes to sessions, roles and the role hierarchy committed to the database by
    /// anyone (this instance, others, `soc2ctl`): what the in-process caches follow (with
    /// `server.redis_url` the session cache follows the Redis change channel instead, and
    /// this log carries no session of the server's). Live while the database's change log is
    /// followed (subscribe before each read, see [`ChangeFeed`]).
    #[must_use]
    pub fn changes(&self) -> &ChangeFeed {
        &self.changes
    }

    /// Stops following the change log and, with sessions on Redis, its change channel (the
    /// caches stop serving), stops accepting audit events and writes every buffered one.
    ///
    /// # Errors
    /// [`AuditError`] when the store refuses the last events.
    pub async fn shutdown(&self) -> Result<(), AuditError> {
        let follower = self
            .follower
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(follower) = follower {
            follower.stop().await;
        }
        let session_follower = self
            .session_follower
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(follower) = session_follower {
            follower.stop().await;
        }
        self.audit.shutdown().await
    }
}

fn session_layer(
    config: &Config,
    sessions: &SessionManager,
    clock: &Arc<dyn Clock>,
) -> Result<SessionLayer, ConfigError> {
    let server = &config.server;
    let mut cookie = SessionCookie::new();
    if server.insecure_dev_cookies {
        cookie = cookie.dangerous_insecure_for_plain_http_localhost();
        tracing::warn!("insecure_dev_cookies: session cookies without Secure; localhost only");
    }
    let origins = if server.allowed_origins.is_empty() {
        let scheme = if cookie.is_secure() { "https" } else { "http" };
        AllowedOrigins::new([format!("{scheme}://{}", server.listen)])?
    } else {
        AllowedOrigins::new(&server.allowed_origins)?
    };
    Ok(SessionLayer::new(sessions.clone(), Arc::clone(clock))
        .with_cookie(cookie)
        .with_allowed_origins(origins)
        .with_trusted_proxies(TrustedProxies::parse(&server.trusted_proxies)?))
}

/// Serves `app` on `listener` until `shutdown` completes, sweeping expired sessions every
/// `[session] sweep_interval` meanwhile; then lets a sweep in progress finish and flushes the
/// audit log.
///
/// # Errors
/// I/O errors of the listener; an audit flush failure is reported as an I/O error too, since
/// events would be lost.
pub async fn serve(
    listener: TcpListener,
    app: &App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let sweeper = Sweeper::start(app.housekeeping.clone(), app.sweep_interval);
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(sweeper) = sweeper {
        sweeper.stop().await;
    }
    served?;
    app.shutdown().await.map_err(std::io::Error::other)
}

/// The login's MFA rule from `[mfa]`: everyone, or the holders of `required_for_roles`, with
/// the grace period.
fn mfa_policy(
    config: &Config,
    roles: &Arc<dyn RoleStore>,
    clock: &Arc<dyn Clock>,
) -> Result<MfaPolicy, StartError> {
    let policy = if config.mfa.required {
        MfaPolicy::new(MfaRequirement::Everyone)
    } else if config.mfa.required_for_roles.is_empty() {
        MfaPolicy::new(MfaRequirement::Enrolled)
    } else {
        for role in &config.mfa.required_for_roles {
            RoleName::new(role)?;
        }
        let lookup = HeldRoles {
            store: Arc::clone(roles),
            clock: Arc::clone(clock),
        };
        MfaPolicy::for_roles(config.mfa.required_for_roles.clone(), Arc::new(lookup))
    };
    Ok(policy.with_grace_period(config.mfa.grace_period))
}
