//! The `RoleStore` conformance suite: assignments and the hierarchy ([`roles`]) and
//! just-in-time elevations ([`elevation`]), with segregation of duties checked atomically with
//! every grant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod elevation;
pub mod roles;

use std::sync::Arc;

use async_trait::async_trait;
use soc2_core::UserId;
use soc2_rbac::{RoleName, RoleNode, RoleStore, SodConflict, SodRules};
use time::OffsetDateTime;
use time::macros::datetime;

/// A backend under test.
#[async_trait]
pub trait RoleBackend: Send + Sync + 'static {
    /// A store handle on this backend's database. Each call opens a separate pool, like a
    /// separate app instance; handles on one database share every role.
    async fn open(&self) -> Arc<dyn RoleStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

pub(crate) const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

/// Rounds of each race: enough to interleave the two handles' transactions many ways.
pub(crate) const RACE_ROUNDS: usize = 200;

pub(crate) fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}

pub(crate) fn roles(names: &[&str]) -> Vec<RoleName> {
    names.iter().map(|name| role(name)).collect()
}

pub(crate) fn node(name: &str, parents: &[&str]) -> RoleNode {
    RoleNode {
        role: role(name),
        parents: roles(parents),
    }
}

/// `admin` + `auditor` and `approver` + `auditor` conflict; `deploy`, `release` and `sign`
/// conflict only all three together.
pub(crate) fn rules() -> SodRules {
    SodRules::from_toml(
        r#"
        [[rule]]
        name = "admin-auditor"
        roles = ["admin", "auditor"]

        [[rule]]
        name = "approver-auditor"
        roles = ["approver", "auditor"]

        [[rule]]
        name = "trio"
        roles = ["deploy", "release", "sign"]
        cardinality = 3
        "#,
    )
    .unwrap()
}

pub(crate) fn conflict(rule: &str, names: &[&str]) -> SodConflict {
    SodConflict {
        rule: rule.into(),
        roles: roles(names),
    }
}

/// `n` fresh users, sorted.
pub(crate) fn users<const N: usize>() -> [UserId; N] {
    let mut users = [(); N].map(|()| UserId::new_v7());
    users.sort();
    users
}

/// Expands to one test per `RoleStore` conformance case for `$backend` (an async expression
/// yielding `Option<impl RoleBackend>`), elevation cases included.
#[macro_export]
macro_rules! role_store_conformance {
    ($backend:expr) => {
        $crate::role_store_conformance!(@cases $backend; roles;
            grants_holders_and_revocation,
            the_hierarchy_feeds_the_closure,
            parent_changes_forming_a_cycle_are_refused,
            grants_completing_a_conflict_are_refused,
            racing_conflicting_grants_one_wins,
            racing_parent_changes_never_form_a_cycle,
            assignments_page_in_user_order,
        );
        $crate::role_store_conformance!(@cases $backend; elevation;
            elevations_round_trip,
            approved_elevations_count_only_in_their_window,
            decided_and_revoked_elevations_stay_closed,
            segregation_of_duties_counts_elevations,
            racing_decisions_apply_once,
            racing_grants_and_approvals_keep_segregation,
        );
    };
    (@cases $backend:expr; $module:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::rbac::$module::$case(&backend).await;
                    $crate::rbac::RoleBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
