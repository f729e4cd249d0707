//! `authorize` over the example policies: what the adapters' `Authorize` and
//! `RequireAction` tell the host.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::principal;
use serde_json::Value;
use soc2_core::UserId;
use soc2_rbac::{ResourceEntity, ResourceRef};
use soc2_testkit::web::{BROKEN_CHANGE, WebApp};
use soc2_web::{RejectionKind, authorize};

fn change(requester: UserId) -> ResourceEntity {
    ResourceEntity::new()
        .with_attribute("requester", requester)
        .with_attribute("status", "pending")
}

#[tokio::test]
async fn decisions_and_denials_name_their_policies() {
    let app = WebApp::new().await;
    let (alice, bob, carol) = (UserId::new_v7(), UserId::new_v7(), UserId::new_v7());
    app.grant(alice, "approver").await;
    app.grant(bob, "approver").await;
    app.grant(carol, "engineer").await;
    let chg = ResourceRef::new("Change", "CHG-1");
    app.add_resource(&chg, change(alice));
    let ask = |user| {
        let (app, chg) = (&app, &chg);
        async move {
            let principal = principal(app, user).await;
            authorize(
                &app.authorizer,
                &principal,
                "approve_change",
                chg,
                Value::Null,
            )
            .await
        }
    };
    let allowed = ask(bob).await.unwrap();
    assert!(allowed.allowed());
    assert_eq!(allowed.policies(), ["changes.approvers-approve-pending"]);
    assert_eq!(
        ask(alice).await.unwrap_err(),
        RejectionKind::Forbidden {
            policies: vec!["changes.approve-own-forbidden".into()]
        }
    );
    assert_eq!(
        ask(carol).await.unwrap_err(),
        RejectionKind::Forbidden { policies: vec![] }
    );
    let denied = app.events_of("authz.denied").await;
    assert_eq!(denied.len(), 2);
}

#[tokio::test]
async fn failures_deny_with_a_reason_for_the_host() {
    let app = WebApp::new().await;
    let user = UserId::new_v7();
    app.grant(user, "approver").await;
    let principal = principal(&app, user).await;
    let ask = |action: &'static str, resource: ResourceRef| {
        let (app, principal) = (&app, &principal);
        async move {
            authorize(&app.authorizer, principal, action, &resource, Value::Null)
                .await
                .unwrap_err()
        }
    };
    assert_eq!(
        ask("approve_change", ResourceRef::new("Change", "CHG-404")).await,
        RejectionKind::UnknownResource
    );
    assert_eq!(
        ask("launch", ResourceRef::new("Change", "CHG-404")).await,
        RejectionKind::InvalidAuthorizationRequest("unknown action `launch`".into())
    );
    assert!(matches!(
        ask("approve_change", ResourceRef::new("no such type!", "1")).await,
        RejectionKind::InvalidAuthorizationRequest(_)
    ));
    assert_eq!(
        ask("approve_change", ResourceRef::new("Change", BROKEN_CHANGE)).await,
        RejectionKind::AuthorizationUnavailable
    );
    let outcomes: Vec<String> = app
        .events_of("authz.denied")
        .await
        .into_iter()
        .map(|(outcome, _, _)| outcome)
        .collect();
    assert_eq!(outcomes, ["error"; 4]);
}
