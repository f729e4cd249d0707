//! `Harness`: a served app and a plain HTTP/1.1 client that can pick its source address.

use std::net::{IpAddr, Ipv4Addr};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use soc2_core::UserId;
use soc2_session::SessionToken;

use super::{Served, WebAdapter, WebApp};

/// The loopback address requests come from unless a case picks another; the adapters
/// trust it as a proxy.
pub const TRUSTED_PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
/// Another loopback address, which the adapters do not trust as a proxy.
pub const UNTRUSTED_PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// An answer: status, `Retry-After` (if any) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// A user's session as a client presents it.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: UserId,
    /// `Cookie` header value.
    pub cookie: String,
    /// `Authorization` header value.
    pub bearer: String,
    /// `X-CSRF-Token` header value.
    pub csrf: String,
}

/// The app, served by one adapter.
#[derive(Debug)]
pub struct Harness {
    pub app: WebApp,
    served: Served,
    csrf: fn(&SessionToken) -> String,
}

impl Harness {
    /// A fresh [`WebApp`] served by `adapter`.
    pub async fn start<A: WebAdapter>(adapter: &A) -> Self {
        let app = WebApp::new().await;
        let served = adapter.serve(&app);
        Self {
            app,
            served,
            csrf: A::csrf_token,
        }
    }

    /// Sends a request from [`TRUSTED_PEER`]: (status, body).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let reply = self.send_from(TRUSTED_PEER, method, path, headers).await;
        (reply.status, reply.body)
    }

    /// Sends a request from the loopback address `peer`.
    pub async fn send_from(
        &self,
        peer: IpAddr,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.served.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(peer));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let response = client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            retry_after,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    /// Logs `user` in: the headers that present the new session.
    pub async fn login(&self, user: UserId) -> Login {
        let token = self.app.login(user).await;
        Login {
            user,
            cookie: format!("__Host-soc2_session={}", token.expose_secret()),
            bearer: format!("Bearer {}", token.expose_secret()),
            csrf: (self.csrf)(&token),
        }
    }
}
