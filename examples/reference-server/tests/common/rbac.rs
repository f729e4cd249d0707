//! Authorization flows: roles granted by an administrator under the SoD rules, change
//! approval decided by the Cedar policies, ending a user's sessions.

use hyper::{Method, StatusCode};
use serde_json::json;

use super::{ADMIN_PASSWORD, Browser, STRONG, TestServer};

/// Registers and logs in `name`.
async fn member(server: &TestServer, name: &str) -> Browser {
    assert_eq!(
        server.register(name, STRONG).await.status,
        StatusCode::CREATED
    );
    server.login(name, STRONG).await
}

async fn set_role(
    server: &TestServer,
    admin: &Browser,
    method: Method,
    user: &str,
    role: &str,
) -> super::Reply {
    let path = format!("/api/admin/users/{user}/roles/{role}");
    server.unsafe_request(method, &path, None, admin).await
}

async fn request(server: &TestServer, who: &Browser, title: &str) -> super::Reply {
    let body = json!({"title": title});
    server
        .unsafe_request(Method::POST, "/api/changes", Some(body), who)
        .await
}

async fn approve(server: &TestServer, who: &Browser, id: &str) -> super::Reply {
    let path = format!("/api/changes/{id}/approve");
    server.unsafe_request(Method::POST, &path, None, who).await
}

pub async fn change_approval(server: &TestServer) {
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let erin = member(server, "ezra").await;
    let abe = member(server, "abel").await;
    let nora = member(server, "noor").await;
    for (user, role) in [
        ("ezra", "engineer"),
        ("abel", "engineer"),
        ("abel", "approver"),
    ] {
        let granted = set_role(server, &admin, Method::PUT, user, role).await;
        assert_eq!(granted.status, StatusCode::NO_CONTENT, "{user} {role}");
    }
    assert_eq!(
        server.get("/api/me", Some(&abe)).await.json()["roles"],
        json!(["approver", "engineer"])
    );

    let created = request(server, &erin, "rotate the TLS certificate").await;
    assert_eq!(created.status, StatusCode::CREATED);
    let erins = created.json()["id"].as_str().unwrap().to_owned();
    let own = request(server, &abe, "raise the connection limit").await;
    assert_eq!(own.status, StatusCode::CREATED);
    let abes = own.json()["id"].as_str().unwrap().to_owned();
    let refused = request(server, &nora, "drop the audit table").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json(), json!({"error": "forbidden"}));
    assert_eq!(
        request(server, &erin, "").await.status,
        StatusCode::BAD_REQUEST
    );

    let not_an_approver = approve(server, &erin, &abes).await;
    assert_eq!(not_an_approver.status, StatusCode::FORBIDDEN);
    let self_approval = approve(server, &abe, &abes).await;
    assert_eq!(self_approval.status, StatusCode::FORBIDDEN);
    assert_eq!(self_approval.json(), json!({"error": "forbidden"}));
    let approved = approve(server, &abe, &erins).await;
    assert_eq!(approved.status, StatusCode::OK);
    assert_eq!(approved.json(), json!({"id": erins, "status": "approved"}));
    assert_eq!(
        approve(server, &abe, &erins).await.status,
        StatusCode::FORBIDDEN,
        "no longer pending"
    );
    assert_eq!(
        approve(server, &abe, "no-such-change").await.status,
        StatusCode::FORBIDDEN
    );

    server
        .assert_audited(&["rbac.role.granted", "authz.denied"])
        .await;
}

pub async fn roles_under_segregation_of_duties(server: &TestServer) {
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let sam = member(server, "sami").await;
    assert_eq!(
        set_role(server, &admin, Method::PUT, "sami", "approver")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let conflict = set_role(server, &admin, Method::PUT, "sami", "auditor").await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(
        conflict.json(),
        json!({"error": "sod_conflict", "rule": "approver-auditor"})
    );
    assert_eq!(
        set_role(server, &admin, Method::DELETE, "sami", "approver")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        set_role(server, &admin, Method::PUT, "sami", "auditor")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.get("/api/me", Some(&sam)).await.json()["roles"],
        json!(["auditor"])
    );

    let by_sam = set_role(server, &sam, Method::PUT, "sami", "admin").await;
    assert_eq!(by_sam.status, StatusCode::FORBIDDEN);
    let self_admin = set_role(server, &admin, Method::DELETE, "admin", "admin").await;
    assert_eq!(
        self_admin.status,
        StatusCode::FORBIDDEN,
        "nobody administers themself"
    );
    assert_eq!(
        set_role(server, &admin, Method::PUT, "nobody", "auditor")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        set_role(server, &admin, Method::PUT, "sami", "bad%20role")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let ended = server
        .unsafe_request(
            Method::DELETE,
            "/api/admin/users/sami/sessions",
            None,
            &admin,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", Some(&sam)).await.status,
        StatusCode::UNAUTHORIZED
    );
    server
        .assert_audited(&["rbac.sod.violation", "rbac.role.revoked", "session.revoked"])
        .await;
}
