//! The end-to-end flows on PostgreSQL, when `SOC2_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestServer, flows, mfa, passkey, rbac};

#[tokio::test]
async fn every_flow_on_postgres() {
    let Some((server, schema)) = TestServer::postgres("reference_server_flows").await else {
        return;
    };
    flows::registration_and_login(&server).await;
    flows::csrf_and_logout(&server).await;
    flows::lockout(&server).await;
    flows::password_change(&server).await;
    flows::sessions_by_id(&server).await;
    flows::audit_export_and_verify(&server).await;
    flows::idle_timeout(&server).await;
    mfa::totp_enrollment_and_login(&server).await;
    mfa::factor_changes_need_fresh_auth(&server).await;
    passkey::registration_and_management(&server).await;
    passkey::second_factor_login(&server).await;
    passkey::passwordless_login(&server).await;
    rbac::change_approval(&server).await;
    rbac::roles_under_segregation_of_duties(&server).await;
    schema.drop_schema().await;
}
