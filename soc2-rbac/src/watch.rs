//! `PolicyWatcher`: reloads the policy set when its files change (feature `watch`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use soc2_audit::Actor;
use tokio::sync::{broadcast, mpsc};

use crate::load::is_policy_file;
use crate::{PolicyStore, ReloadError, ReloadReport};

/// How long the directory must be quiet before a reload: editors and deploy tools write a file
/// in several steps (truncate, write, rename), and one reload should see the finished edit.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(300);

/// How many [`WatchEvent`]s a slow subscriber may fall behind before it misses some.
const EVENTS: usize = 16;

/// The actor audited for reloads the watcher triggers.
const WATCHER: &str = "policy-watcher";

/// What the watcher did after the files changed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WatchEvent {
    /// The changed directory is in force.
    Reloaded(ReloadReport),
    /// The changed directory was refused (or its reload could not be audited); the previous
    /// set stays in force. The refusal is audited by [`PolicyStore::reload`].
    Refused(Arc<ReloadError>),
    /// The file watcher failed (e.g. the directory was removed); the set in force is kept.
    WatchFailed(String),
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The operating system's file watcher refused (e.g. too many watches, no such directory).
    #[error("cannot watch the policy directory: {0}")]
    Watch(#[from] notify_debouncer_mini::notify::Error),
    /// Not called from within a Tokio runtime, which runs the reloads.
    #[error("the policy watcher needs a Tokio runtime")]
    NoRuntime,
}

/// Reloads a [`PolicyStore`] when a `*.cedar`, `*.cedarschema` or `sod.toml` file in its
/// directory changes, through [`PolicyStore::reload`]: a broken edit keeps the previous set
/// in force, and every reload and refusal is audited (`rbac.policy.reloaded`, actor
/// `service:policy-watcher`).
///
/// Watching stops when the watcher is dropped.
pub struct PolicyWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
    events: broadcast::Sender<WatchEvent>,
    store: Arc<PolicyStore>,
}

impl PolicyWatcher {
    /// Watches `store`'s directory, reloading once it has been quiet for `debounce`
    /// ([`DEFAULT_DEBOUNCE`] suits editors).
    ///
    /// # Errors
    /// [`WatchError`] when the directory cannot be watched or no Tokio runtime is running.
    pub fn start(store: Arc<PolicyStore>, debounce: Duration) -> Result<Self, WatchError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
        let (changes, mut changed) = mpsc::unbounded_channel();
        let mut debouncer = new_debouncer(debounce, move |result: DebounceEventResult| {
            // The receiver is gone only once the watcher is dropped.
            let _ = changes.send(result);
        })?;
        debouncer
            .watcher()
            .watch(store.dir(), RecursiveMode::NonRecursive)?;
        let (events, _) = broadcast::channel(EVENTS);
        let (sender, reloading) = (events.clone(), store.clone());
        runtime.spawn(async move {
            while let Some(result) = changed.recv().await {
                let event = match result {
                    Ok(changes) if changes.iter().any(|change| is_policy_path(&change.path)) => {
                        match reloading.reload(Actor::service(WATCHER)).await {
                            Ok(report) => WatchEvent::Reloaded(report),
                            Err(error) => WatchEvent::Refused(Arc::new(error)),
                        }
                    }
                    Ok(_) => continue,
                    Err(error) => {
                        tracing::error!(target: "soc2::rbac", %error, "policy directory watch failed");
                        WatchEvent::WatchFailed(error.to_string())
                    }
                };
                // Nobody listening is fine: the reload is audited either way.
                let _ = sender.send(event);
            }
        });
        Ok(Self {
            _debouncer: debouncer,
            events,
            store,
        })
    }

    /// The outcome of every reload from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<WatchEvent> {
        self.events.subscribe()
    }
}

impl fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyWatcher")
            .field("dir", &self.store.dir())
            .finish_non_exhaustive()
    }
}

/// A path named like a file the policy directory is loaded from.
fn is_policy_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(is_policy_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_policy_files_trigger_a_reload() {
        for name in ["changes.cedar", "schema.cedarschema", "sod.toml"] {
            assert!(is_policy_path(&Path::new("/p").join(name)), "{name}");
        }
        for name in [
            ".changes.cedar.swp",
            ".x.cedar",
            "notes.md",
            "4913",
            "sod.toml~",
        ] {
            assert!(!is_policy_path(&Path::new("/p").join(name)), "{name}");
        }
    }
}
