//! `PolicyStore`: the policy set in force, swapped atomically on reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use soc2_audit::{Actor, AuditError, AuditEvent, AuditLog, Outcome, SdkAction, Target};
use soc2_core::Clock;

use crate::{PolicyError, PolicySnapshot, PolicyVersion};

/// How many problems a refused reload lists in its audit event (all are returned to the caller).
const AUDITED_PROBLEMS: usize = 20;

/// Why a policy directory was not put in force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The directory has problems; the previous set (if any) stays in force.
    #[error("policy set refused: {0}")]
    Invalid(#[from] PolicyError),
    /// The change could not be audited, so it was not made (fail closed).
    #[error("policy reload not audited: {0}")]
    Audit(#[from] AuditError),
    /// The blocking loader task did not finish (runtime shutting down).
    #[error("the policy loader task did not finish")]
    Interrupted,
}

/// A successful reload: which set was replaced by which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// The version in force before.
    pub previous: PolicyVersion,
    /// The version in force now.
    pub current: PolicyVersion,
}

/// The policy set in force, loaded from one directory.
///
/// Readers take a snapshot ([`PolicyStore::snapshot`], one atomic load) and keep it for the
/// whole request: a reload never changes a decision in flight and never blocks one.
#[derive(Debug)]
pub struct PolicyStore {
    dir: PathBuf,
    current: ArcSwap<PolicySnapshot>,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
    reloading: tokio::sync::Mutex<()>,
}

impl PolicyStore {
    /// Loads `dir` and puts it in force; audited (`rbac.policy.reloaded`) either way.
    ///
    /// # Errors
    /// [`ReloadError`] when the directory has problems or the load cannot be audited.
    pub async fn open(
        dir: impl Into<PathBuf>,
        audit: AuditLog,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ReloadError> {
        let dir = dir.into();
        let snapshot = match load(&dir).await? {
            Ok(snapshot) => snapshot,
            Err(error) => {
                record_refusal(&audit, &*clock, Actor::System, &dir, None, &error);
                return Err(error.into());
            }
        };
        let permit = audit.reserve()?;
        permit.record(
            event(&*clock, Actor::System, &dir, Outcome::Success)
                .with_metadata("version", snapshot.version().to_string())
                .with_metadata("policies", snapshot.policy_ids().len()),
        );
        Ok(Self {
            dir,
            current: ArcSwap::from_pointee(snapshot),
            audit,
            clock,
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The policy set in force.
    #[must_use]
    pub fn snapshot(&self) -> Arc<PolicySnapshot> {
        self.current.load_full()
    }

    /// The version in force, to compare across instances.
    #[must_use]
    pub fn version(&self) -> PolicyVersion {
        self.current.load().version()
    }

    /// The policy directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reloads the directory on behalf of `by`. A valid set replaces the current one
    /// atomically; an invalid one is refused and the current one stays in force. Audited
    /// either way. Concurrent reloads run one after the other.
    ///
    /// # Errors
    /// [`ReloadError::Invalid`] with every problem, [`ReloadError::Audit`] when the swap cannot
    /// be audited (the swap then does not happen).
    pub async fn reload(&self, by: Actor) -> Result<ReloadReport, ReloadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let previous = self.version();
        match load(&self.dir).await? {
            Ok(snapshot) => {
                let permit = self.audit.reserve()?;
                let current = snapshot.version();
                self.current.store(Arc::new(snapshot));
                permit.record(
                    event(&*self.clock, by, &self.dir, Outcome::Success)
                        .with_metadata("version", current.to_string())
                        .with_metadata("previous_version", previous.to_string())
                        .with_metadata("policies", self.current.load().policy_ids().len()),
                );
                tracing::info!(target: "soc2::rbac", %previous, %current, "policy set reloaded");
                Ok(ReloadReport { previous, current })
            }
            Err(error) => {
                record_refusal(
                    &self.audit,
                    &*self.clock,
                    by,
                    &self.dir,
                    Some(previous),
                    &error,
                );
                Err(error.into())
            }
        }
    }
}

async fn load(dir: &Path) -> Result<Result<PolicySnapshot, PolicyError>, ReloadError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || PolicySnapshot::load(&dir))
        .await
        .map_err(|_| ReloadError::Interrupted)
}

fn event(clock: &dyn Clock, by: Actor, dir: &Path, outcome: Outcome) -> AuditEvent {
    AuditEvent::new(SdkAction::PolicyReloaded, outcome, by, clock.now())
        .with_target(Target::new("policy_directory", &dir.display().to_string()))
}

/// Audits a refused directory. The refusal stands whether or not the audit log takes it; a
/// full log is reported through `tracing`.
fn record_refusal(
    audit: &AuditLog,
    clock: &dyn Clock,
    by: Actor,
    dir: &Path,
    in_force: Option<PolicyVersion>,
    error: &PolicyError,
) {
    let problems: Vec<String> = error
        .problems()
        .iter()
        .take(AUDITED_PROBLEMS)
        .map(ToString::to_string)
        .collect();
    let event = event(clock, by, dir, Outcome::Failure)
        .with_reason("policy directory refused; the previous set stays in force")
        .with_metadata("problem_count", error.problems().len())
        .with_metadata("problems", problems)
        .with_metadata("version_in_force", in_force.map(|v| v.to_string()));
    if let Err(audit_error) = audit.record(event) {
        tracing::error!(target: "soc2::rbac", %audit_error, %error, "policy refusal not audited");
    }
}
