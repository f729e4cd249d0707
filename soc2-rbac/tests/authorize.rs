#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Decisions on the example change-management policies: allows, denies, dynamic SoD,
//! determining policy ids, fail-closed errors, audit.

mod common;

use common::{fixture, role, user};
use serde_json::json;
use soc2_audit::Actor;
use soc2_core::{Clock, UserId};
use soc2_rbac::{AttrValue, AuthzError, ResourceEntity, ResourceRef, RoleStore};

fn change(requester: UserId, status: &str) -> ResourceEntity {
    ResourceEntity::new()
        .with_attribute("requester", requester)
        .with_attribute("status", status)
}

#[tokio::test]
async fn the_requester_of_a_change_cannot_approve_it_even_as_approver() {
    let f = fixture().await;
    let (alice, bob) = (user(), user());
    for who in [alice, bob] {
        f.manager
            .assign(Actor::System, who, &role("approver"))
            .await
            .unwrap();
    }
    let chg = ResourceRef::new("Change", "CHG-1");
    f.add_resource(&chg, change(alice, "pending"));

    let own = f
        .authorizer
        .authorize(alice, "approve_change", &chg, json!({}))
        .await
        .unwrap();
    assert!(!own.allowed());
    assert_eq!(own.policies(), ["changes.approve-own-forbidden"]);
    assert!(own.errors().is_empty());

    let other = f
        .authorizer
        .authorize(bob, "approve_change", &chg, json!(null))
        .await
        .unwrap();
    assert!(other.allowed());
    assert_eq!(other.policies(), ["changes.approvers-approve-pending"]);
    assert_eq!(other.version(), f.policies.version());

    let denied = f.events_of("authz.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].0, "denied");
    assert_eq!(denied[0].1["action"], "approve_change");
    assert_eq!(
        denied[0].1["policies"],
        json!(["changes.approve-own-forbidden"])
    );
    assert_eq!(
        denied[0].1["policy_version"],
        f.policies.version().to_string()
    );
}

#[tokio::test]
async fn roles_inherit_through_the_hierarchy_and_changes_apply_on_the_next_request() {
    let f = fixture().await;
    let carol = user();
    let chg = ResourceRef::new("Change", "CHG-2");
    f.add_resource(&chg, change(user(), "approved"));

    let nothing = f
        .authorizer
        .authorize(carol, "deploy_change", &chg, json!({}))
        .await
        .unwrap();
    assert!(!nothing.allowed());
    assert!(
        nothing.policies().is_empty(),
        "deny by default names no policy"
    );

    // `approver` inherits `engineer`, so an approver may deploy an approved change.
    f.roles
        .set_parents(&role("approver"), &[role("engineer")])
        .await
        .unwrap();
    f.manager
        .assign(Actor::System, carol, &role("approver"))
        .await
        .unwrap();
    let inherited = f
        .authorizer
        .authorize(carol, "deploy_change", &chg, json!({}))
        .await
        .unwrap();
    assert!(inherited.allowed());
    assert_eq!(inherited.policies(), ["changes.engineers-deploy-approved"]);

    f.manager
        .revoke(Actor::System, carol, &role("approver"))
        .await
        .unwrap();
    let revoked = f
        .authorizer
        .authorize(carol, "deploy_change", &chg, json!({}))
        .await
        .unwrap();
    assert!(
        !revoked.allowed(),
        "a revoked role stops working on the next request"
    );
}

#[tokio::test]
async fn users_as_resources_come_from_the_role_store() {
    let f = fixture().await;
    let (admin, other) = (user(), user());
    f.manager
        .assign(Actor::System, admin, &role("admin"))
        .await
        .unwrap();
    let allowed = f
        .authorizer
        .authorize(admin, "manage_users", &ResourceRef::user(other), json!({}))
        .await
        .unwrap();
    assert_eq!(
        (allowed.allowed(), allowed.policies()),
        (true, &["admin.admins-manage-users".to_owned()][..])
    );
    let own = f
        .authorizer
        .authorize(admin, "manage_users", &ResourceRef::user(admin), json!({}))
        .await
        .unwrap();
    assert_eq!(
        (own.allowed(), own.policies()),
        (
            false,
            &["admin.self-administration-forbidden".to_owned()][..]
        )
    );
}

#[tokio::test]
async fn evaluation_errors_deny_and_are_audited() {
    let f = fixture().await;
    // A policy that validates but fails at run time (integer overflow), next to
    // `audit.auditors-read`, which permits.
    f.write(
        "extra.cedar",
        "@id(\"overflow\")\npermit (principal, action == Action::\"read_audit\", resource)\nwhen { 9223372036854775807 + 1 > 0 };\n",
    );
    f.policies.reload(Actor::System).await.unwrap();
    let auditor = user();
    f.manager
        .assign(Actor::System, auditor, &role("auditor"))
        .await
        .unwrap();
    let log = ResourceRef::new("AuditLog", "main");
    f.add_resource(&log, ResourceEntity::new());

    let decision = f
        .authorizer
        .authorize(auditor, "read_audit", &log, json!({}))
        .await
        .unwrap();
    assert!(
        !decision.allowed(),
        "another policy permits, but an error denies"
    );
    assert_eq!(decision.policies(), ["audit.auditors-read"]);
    assert_eq!(decision.errors().len(), 1);
    assert_eq!(decision.errors()[0].policy, "extra.overflow");
    assert!(
        decision.errors()[0].message.contains("overflow"),
        "{}",
        decision.errors()[0].message
    );

    let denied = f.events_of("authz.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].0, "error");
    assert_eq!(denied[0].1["errors"][0]["policy"], "extra.overflow");
}

#[tokio::test]
async fn bad_requests_are_typed_errors_and_audited() {
    let f = fixture().await;
    let someone = user();
    f.manager
        .assign(Actor::System, someone, &role("engineer"))
        .await
        .unwrap();
    let chg = ResourceRef::new("Change", "CHG-3");
    f.add_resource(&chg, change(someone, "pending"));

    let unknown = f
        .authorizer
        .authorize(someone, "delete_everything", &chg, json!({}))
        .await;
    assert!(
        matches!(unknown, Err(AuthzError::UnknownAction(ref a)) if a == "delete_everything"),
        "{unknown:?}"
    );

    let missing = f
        .authorizer
        .authorize(
            someone,
            "request_change",
            &ResourceRef::new("Change", "nope"),
            json!({}),
        )
        .await;
    assert!(
        matches!(missing, Err(AuthzError::ResourceNotFound)),
        "{missing:?}"
    );

    let bad_type = f
        .authorizer
        .authorize(
            someone,
            "request_change",
            &ResourceRef::new("not a type", "x"),
            json!({}),
        )
        .await;
    assert!(
        matches!(bad_type, Err(AuthzError::InvalidResource(_))),
        "{bad_type:?}"
    );

    let role_resource = f
        .authorizer
        .authorize(
            someone,
            "request_change",
            &ResourceRef::new("Role", "admin"),
            json!({}),
        )
        .await;
    assert!(
        matches!(role_resource, Err(AuthzError::InvalidResource(_))),
        "{role_resource:?}"
    );

    let wrong_type = f
        .authorizer
        .authorize(someone, "read_audit", &chg, json!({}))
        .await;
    assert!(
        matches!(wrong_type, Err(AuthzError::InvalidRequest(_))),
        "{wrong_type:?}"
    );

    let context = f
        .authorizer
        .authorize(someone, "request_change", &chg, json!({"extra": 1}))
        .await;
    assert!(
        matches!(context, Err(AuthzError::InvalidRequest(_))),
        "{context:?}"
    );

    let odd = ResourceRef::new(
        "Change",
        "CHG\"; permit(principal,action,resource);\n\u{202e}",
    );
    f.add_resource(
        &odd,
        ResourceEntity::new()
            .with_attribute("requester", someone)
            .with_attribute("status", 7_i64),
    );
    let mistyped = f
        .authorizer
        .authorize(someone, "request_change", &odd, json!({}))
        .await;
    assert!(
        matches!(mistyped, Err(AuthzError::InvalidEntity(_))),
        "{mistyped:?}"
    );

    f.add_resource(&odd, change(someone, "pending"));
    let odd_ok = f
        .authorizer
        .authorize(someone, "request_change", &odd, json!({}))
        .await
        .unwrap();
    assert!(odd_ok.allowed(), "an odd id is just an id");

    let mut deep = AttrValue::Long(1);
    for _ in 0..40 {
        deep = AttrValue::Set(vec![deep]);
    }
    let nested = ResourceRef::new("Change", "deep");
    f.add_resource(
        &nested,
        change(someone, "pending").with_attribute("status", deep),
    );
    let too_deep = f
        .authorizer
        .authorize(someone, "request_change", &nested, json!({}))
        .await;
    assert!(
        matches!(too_deep, Err(AuthzError::InvalidEntity(ref m)) if m.contains("deeper than 32")),
        "{too_deep:?}"
    );

    let errors: Vec<_> = f
        .events_of("authz.denied")
        .await
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect();
    assert_eq!(errors, vec!["error"; 8]);
}

#[tokio::test]
async fn the_principal_never_comes_from_the_request() {
    let f = fixture().await;
    let stranger = user();
    let chg = ResourceRef::new("Change", "CHG-4");
    f.add_resource(&chg, change(stranger, "pending"));
    // The context cannot smuggle roles: the schema declares no context for this action.
    let smuggled = f
        .authorizer
        .authorize(
            stranger,
            "approve_change",
            &chg,
            json!({"roles": ["approver"]}),
        )
        .await;
    assert!(
        matches!(smuggled, Err(AuthzError::InvalidRequest(_))),
        "{smuggled:?}"
    );
    assert!(
        f.roles
            .user_roles(stranger, f.clock.now())
            .await
            .unwrap()
            .assigned
            .is_empty()
    );
}

#[tokio::test]
async fn a_hierarchy_change_applies_on_the_next_request_for_the_same_role_set() {
    // Role entities are reused per role set; the set includes each role's parents, so changing
    // the hierarchy under an unchanged assignment must still take effect at once.
    let f = fixture().await;
    let dave = user();
    let chg = ResourceRef::new("Change", "CHG-5");
    f.add_resource(&chg, change(user(), "approved"));
    f.roles
        .set_parents(&role("approver"), &[role("engineer")])
        .await
        .unwrap();
    f.manager
        .assign(Actor::System, dave, &role("approver"))
        .await
        .unwrap();
    for _ in 0..2 {
        let inherited = f
            .authorizer
            .authorize(dave, "deploy_change", &chg, json!({}))
            .await
            .unwrap();
        assert!(inherited.allowed());
    }
    f.roles.set_parents(&role("approver"), &[]).await.unwrap();
    let cut = f
        .authorizer
        .authorize(dave, "deploy_change", &chg, json!({}))
        .await
        .unwrap();
    assert!(!cut.allowed(), "an approver no longer inherits engineer");
}

#[tokio::test]
async fn host_resources_are_still_validated_against_the_schema() {
    let f = fixture().await;
    let erin = user();
    f.manager
        .assign(Actor::System, erin, &role("engineer"))
        .await
        .unwrap();
    let cases = [
        (
            "wrong entity type",
            ResourceEntity::new()
                .with_attribute("requester", ResourceRef::new("Change", "CHG-0"))
                .with_attribute("status", "pending"),
        ),
        (
            "missing attribute",
            ResourceEntity::new().with_attribute("requester", erin),
        ),
        (
            "undeclared attribute",
            change(erin, "pending").with_attribute("owner", erin),
        ),
        (
            "undeclared ancestor type",
            change(erin, "pending").with_ancestor(ResourceRef::new("Folder", "f")),
        ),
        (
            "ancestor type not allowed",
            change(erin, "pending").with_ancestor(ResourceRef::new("AuditLog", "log")),
        ),
    ];
    for (i, (case, entity)) in cases.into_iter().enumerate() {
        let chg = ResourceRef::new("Change", format!("CHG-BAD-{i}"));
        f.add_resource(&chg, entity);
        let refused = f
            .authorizer
            .authorize(erin, "request_change", &chg, json!({}))
            .await;
        assert!(
            matches!(refused, Err(AuthzError::InvalidEntity(_))),
            "{case}: {refused:?}"
        );
    }
    let ok = ResourceRef::new("Change", "CHG-OK");
    f.add_resource(&ok, change(erin, "pending"));
    let allowed = f
        .authorizer
        .authorize(erin, "request_change", &ok, json!({}))
        .await
        .unwrap();
    assert!(allowed.allowed());
}
