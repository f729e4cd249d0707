//! `reference-server`: the soc2-rs reference server.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use reference_server::{App, Config, serve};
use soc2_core::SystemClock;
use tokio::net::TcpListener;

/// The soc2-rs reference server.
#[derive(Debug, Parser)]
#[command(name = "reference-server", version, about)]
struct Args {
    /// A TOML file with [server], [password], [lockout], [session], [mfa], [passkey] and
    /// [audit] sections.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let args = Args::parse();
    let config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    }
    .with_env();
    let app = App::build(&config, Arc::new(SystemClock)).await?;
    if let Some(password) = app.generated_admin_password() {
        println!(
            "created user `admin` with password {} (shown once; it must be changed at the first login)",
            password.expose_secret()
        );
    }
    let listener = TcpListener::bind(config.server.listen).await?;
    let address = listener.local_addr()?;
    // One stable line for scripts and tests (with port 0 the system picks the port).
    println!("listening on {address}");
    match config.redis_url_for_logs() {
        Some(redis) => tracing::info!(
            %address,
            database = %config.database_url_for_logs(),
            %redis,
            "listening; sessions and lockouts on Redis"
        ),
        None => tracing::info!(%address, database = %config.database_url_for_logs(), "listening"),
    }
    serve(listener, &app, shutdown_signal()).await?;
    tracing::info!("stopped; audit log flushed");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
