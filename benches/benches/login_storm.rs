//! 32 concurrent logins on a 2-worker runtime at the default argon2id parameters:
//! throughput against the machine's ceiling (cores / one hash's time, measured with the argon2
//! crate in the same run), peak memory against `permits × 19 MiB`, and the p99 latency of a
//! no-op task while the storm runs against its idle value (is the async runtime blocked?).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use criterion::{Criterion, criterion_group};
use soc2_auth::{HashParams, PasswordAuth, PasswordCheck};
use soc2_benches::{password_service, runtime};
use soc2_core::RequestContext;

const PASSWORD: &str = "correct horse battery staple";
const CONCURRENT: usize = 32;

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

/// Resident-set figures from /proc (kB): (current, peak since the last reset).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak_rss() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn storm(auth: &PasswordAuth) -> Duration {
    let started = Instant::now();
    let logins: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move {
                let check = auth
                    .verify("alice", PASSWORD, &RequestContext::new())
                    .await
                    .unwrap();
                assert!(matches!(check, PasswordCheck::Verified(_)));
            })
        })
        .collect();
    for login in logins {
        login.await.unwrap();
    }
    started.elapsed()
}

/// Round trips of a no-op task through the runtime, sampled every 200 µs until `stop`.
async fn probe(stop: tokio::sync::watch::Receiver<bool>) -> Vec<Duration> {
    let mut samples = Vec::new();
    while !*stop.borrow() {
        let started = Instant::now();
        tokio::spawn(async {}).await.unwrap();
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    samples
}

async fn probe_for(period: Duration) -> Vec<Duration> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(probe(rx));
    tokio::time::sleep(period).await;
    tx.send(true).unwrap();
    handle.await.unwrap()
}

fn login_storm(c: &mut Criterion) {
    let rt = runtime();
    let (auth, user, _audit) =
        rt.block_on(password_service(HashParams::default(), "alice", PASSWORD));
    let stored = rt
        .block_on(auth.credential(user))
        .unwrap()
        .password
        .unwrap();
    let phc = PasswordHash::new(stored.as_str()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let mut hash_times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &phc)
            .unwrap();
        hash_times.push(started.elapsed());
    }
    let hash_time = percentile(hash_times, 0.5);
    let ceiling = cores as f64 / hash_time.as_secs_f64();

    let mut group = c.benchmark_group("login_storm");
    group.sample_size(10);
    group.bench_function("32_concurrent_logins", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| rt.block_on(storm(&auth))).sum());
    });
    group.finish();

    let idle = rt.block_on(probe_for(Duration::from_secs(2)));
    let base = rss_kib().0;
    reset_peak_rss();
    let (elapsed, busy) = rt.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let prober = tokio::spawn(probe(rx));
        let mut elapsed = Duration::ZERO;
        for _ in 0..4 {
            elapsed += storm(&auth).await;
        }
        tx.send(true).unwrap();
        (elapsed, prober.await.unwrap())
    });
    let peak = rss_kib().1;
    let throughput = (4 * CONCURRENT) as f64 / elapsed.as_secs_f64();
    let permits = auth.hasher().permits();
    let budget_mib = permits as f64 * 19.0;
    let (idle_p99, busy_p99) = (percentile(idle, 0.99), percentile(busy, 0.99));
    println!(
        "throughput {throughput:.1} logins/s = {:.3}x the ceiling of {cores} cores / {hash_time:?} per hash ({ceiling:.1}/s)",
        throughput / ceiling
    );
    println!(
        "peak memory above the pre-storm base: {:.1} MiB (permits {permits} x 19 MiB = {budget_mib:.0} MiB)",
        peak.saturating_sub(base) as f64 / 1024.0
    );
    println!(
        "no-op task p99: {busy_p99:?} during the storm vs {idle_p99:?} idle = {:.2}x",
        busy_p99.as_secs_f64() / idle_p99.as_secs_f64()
    );
}

criterion_group!(benches, login_storm);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
