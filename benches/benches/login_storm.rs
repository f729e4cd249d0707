//! 32 concurrent logins (32 users, one each) on a 2-worker runtime at the default argon2id parameters:
//! throughput against the machine's ceiling (cores / one hash's time, measured with the argon2
//! crate in the same run), peak memory against `permits × 19 MiB`, and the p99 latency of a
//! no-op task while the storm runs against its idle value (is the async runtime blocked?).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use criterion::{Criterion, criterion_group};
use soc2_auth::password::UserContext;
use soc2_auth::{HashParams, PasswordAuth, PasswordCheck};
use soc2_benches::{password_service, runtime};
use soc2_core::{RequestContext, UserId};

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

/// One login of each of the `CONCURRENT` users, all at once.
async fn storm(auth: &PasswordAuth) -> Duration {
    let started = Instant::now();
    let logins: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let auth = auth.clone();
            tokio::spawn(async move {
                let check = auth
                    .verify(&format!("user-{i}"), PASSWORD, &RequestContext::new())
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

/// The same number of hashes as one storm, verified with the argon2 crate on `threads` OS
/// threads at once: what this machine really sustains (its cores share caches and memory
/// bandwidth, which argon2 saturates).
fn raw_parallel(phc: &PasswordHash, threads: usize) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..CONCURRENT / threads {
                    Argon2::default()
                        .verify_password(PASSWORD.as_bytes(), phc)
                        .unwrap();
                }
            });
        }
    });
    started.elapsed()
}

/// How late a 1 ms timer fires, sampled until `stop`.
async fn tick_lateness(stop: tokio::sync::watch::Receiver<bool>) -> Vec<Duration> {
    let mut samples = Vec::new();
    while !*stop.borrow() {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        samples.push(started.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    samples
}

/// Runs `storm` while both probes sample; returns the storm's time and the samples.
async fn probed<F: std::future::Future<Output = Duration>>(
    storm: F,
) -> (Duration, Vec<Duration>, Vec<Duration>) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let spawns = tokio::spawn(probe(rx.clone()));
    let ticks = tokio::spawn(tick_lateness(rx));
    let elapsed = storm.await;
    tx.send(true).unwrap();
    (elapsed, spawns.await.unwrap(), ticks.await.unwrap())
}

fn login_storm(c: &mut Criterion) {
    let rt = runtime();
    let (auth, user, _audit) =
        rt.block_on(password_service(HashParams::default(), "user-0", PASSWORD));
    rt.block_on(async {
        for i in 1..CONCURRENT {
            let name = format!("user-{i}");
            let profile = UserContext::default();
            auth.register(
                UserId::new_v7(),
                &name,
                Some(PASSWORD),
                &profile,
                &RequestContext::new(),
            )
            .await
            .unwrap();
        }
    });
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    // Idle probes, then the SDK's storms, before any raw argon2 run can grow the allocator's
    // arenas (so the peak is the SDK's own).
    let (_, idle_spawns, idle_ticks) = rt.block_on(probed(async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Duration::ZERO
    }));
    let mut storms = Vec::new();
    let (mut busy_spawns, mut busy_ticks) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (elapsed, spawns, ticks) = rt.block_on(probed(storm(&auth)));
        storms.push(elapsed);
        busy_spawns.extend(spawns);
        busy_ticks.extend(ticks);
    }
    let peak = rss_kib().1;

    let stored = rt
        .block_on(auth.credential(user))
        .unwrap()
        .password
        .unwrap();
    let phc = PasswordHash::new(stored.as_str()).unwrap();
    let (mut raw_spawns, mut raw_ticks) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let phc = phc.clone();
        let (_, spawns, ticks) = rt.block_on(probed(async move {
            tokio::task::spawn_blocking(move || raw_parallel(&phc, cores))
                .await
                .unwrap()
        }));
        raw_spawns.extend(spawns);
        raw_ticks.extend(ticks);
    }
    let (mut raw_storms, mut single) = (Vec::new(), Vec::new());
    for round in 0..5 {
        let started = Instant::now();
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &phc)
            .unwrap();
        single.push(started.elapsed());
        raw_storms.push(raw_parallel(&phc, cores));
        if round > 0 {
            storms.push(rt.block_on(storm(&auth)));
        }
    }

    let mut group = c.benchmark_group("login_storm");
    group.sample_size(10);
    group.bench_function("32_concurrent_logins", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| rt.block_on(storm(&auth))).sum());
    });
    group.bench_function("32_raw_argon2_on_all_cores", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| raw_parallel(&phc, cores)).sum());
    });
    group.finish();

    let hash_time = percentile(single, 0.5);
    let ceiling = cores as f64 / hash_time.as_secs_f64();
    let throughput = CONCURRENT as f64 / percentile(storms, 0.5).as_secs_f64();
    let raw = CONCURRENT as f64 / percentile(raw_storms, 0.5).as_secs_f64();
    let permits = auth.hasher().permits();
    println!(
        "throughput {throughput:.1} logins/s = {:.3}x cores / hash time ({cores} / {hash_time:?} = {ceiling:.1}/s); raw argon2 on {cores} threads: {raw:.1}/s = {:.3}x that ceiling; SDK / raw parallel = {:.3}x",
        throughput / ceiling,
        raw / ceiling,
        throughput / raw
    );
    println!(
        "peak memory above the process's start: {:.1} MiB (permits {permits} x 19 MiB = {:.0} MiB)",
        peak.saturating_sub(*START_RSS_KIB.get().unwrap_or(&0)) as f64 / 1024.0,
        permits as f64 * 19.0
    );
    for (probe, idle, busy, raw) in [
        (
            "no-op task spawn round trip",
            idle_spawns,
            busy_spawns,
            raw_spawns,
        ),
        ("1 ms timer lateness", idle_ticks, busy_ticks, raw_ticks),
    ] {
        let (idle, busy, raw) = (
            percentile(idle, 0.99),
            percentile(busy, 0.99),
            percentile(raw, 0.99),
        );
        println!(
            "{probe} p99: idle {idle:?}; during SDK storms {busy:?} = {:.2}x idle; while raw argon2 saturates the cores outside the runtime {raw:?} = {:.2}x idle",
            busy.as_secs_f64() / idle.as_secs_f64(),
            raw.as_secs_f64() / idle.as_secs_f64()
        );
    }
}

criterion_group!(benches, login_storm);

static START_RSS_KIB: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn main() {
    START_RSS_KIB.get_or_init(|| rss_kib().0);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
