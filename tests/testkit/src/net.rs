//! Network helpers for tests of connections that fail: a TCP proxy whose links stall, and a
//! bounded wait for a condition another task brings about.

#![allow(clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to one upstream whose links can stall: bytes stop flowing both ways while the
/// sockets stay open, as on a network that silently drops everything.
#[derive(Debug)]
pub struct StallingProxy {
    addr: SocketAddr,
    stalled: Arc<AtomicBool>,
}

impl StallingProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards every connection to `upstream`.
    ///
    /// # Panics
    /// When it cannot bind.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let stalled = Arc::new(AtomicBool::new(false));
        let links = Arc::clone(&stalled);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, Arc::clone(&links)));
                tokio::spawn(pump(server_read, client_write, Arc::clone(&links)));
            }
        });
        Self { addr, stalled }
    }

    /// Where clients connect.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stalls every link (`true`) or lets bytes flow again (`false`).
    pub fn stall(&self, stalled: bool) {
        self.stalled.store(stalled, Ordering::SeqCst);
    }
}

/// Copies `from` to `to`, holding every chunk while the link is stalled.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, stalled: Arc<AtomicBool>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        // A stalled network: the proxy's own wait, not a test's synchronisation.
        while stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// Waits until `condition` holds (another task's doing), checking every millisecond.
///
/// # Panics
/// When it still does not hold after `deadline`.
pub async fn wait_until(condition: impl Fn() -> bool, deadline: Duration) {
    let until = tokio::time::Instant::now() + deadline;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < until,
            "condition not reached within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
