//! The change log on real databases: a follower on its own pool sees exactly the changes that
//! other pools (other "processes") commit, in order; on PostgreSQL it survives losing its
//! connection (not live, then `Resync`, then live), on SQLite it resyncs over pruned rows.
//!
//! "Nothing else" is checked without sleeping: after the action under test, a marker session
//! is removed, and everything received before the marker's change is what the action published.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use soc2_core::{Change, ChangeSubscription, ElevationId, UserId};
use soc2_rbac::{Elevation, ElevationChange, ElevationStatus, RoleName, RoleStore, SodRules};
use soc2_session::SessionStore;
use soc2_sqlx::{ChangeFollower, postgres, sqlite};
use soc2_testkit::net::{StallingProxy, wait_until};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::session::session;
use time::OffsetDateTime;
use time::macros::datetime;

/// How long a change may take to arrive before the test fails (far above the real latency:
/// a poll interval of 10 ms on SQLite, a NOTIFY on PostgreSQL).
const DEADLINE: Duration = Duration::from_secs(5);
/// The SQLite test followers' poll interval.
const POLL: Duration = Duration::from_millis(10);
const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

/// What keeps a test database alive.
enum Keep {
    Sqlite(tempfile::TempDir, sqlx::SqlitePool),
    Postgres(TestSchema, sqlx::PgPool),
}

/// A database with a follower on its own pool, and stores on another.
struct Db {
    follower: ChangeFollower,
    changes: ChangeSubscription,
    sessions: Arc<dyn SessionStore>,
    roles: Arc<dyn RoleStore>,
    keep: Keep,
}

async fn sqlite_db() -> Option<Db> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("changes.db").display());
    let writer = sqlite::connect(&url).await.unwrap();
    sqlite::migrate(&writer).await.unwrap();
    let follower_pool = sqlite::connect(&url).await.unwrap();
    let follower = sqlite::follow_changes(
        &follower_pool,
        sqlite::PollConfig::default().with_poll_interval(POLL),
    )
    .await
    .unwrap();
    Some(Db {
        changes: follower.feed().subscribe(),
        follower,
        sessions: Arc::new(sqlite::SqliteSessionStore::new(writer.clone())),
        roles: Arc::new(sqlite::SqliteRoleStore::new(writer.clone())),
        keep: Keep::Sqlite(dir, writer),
    })
}

async fn postgres_db(test: &str) -> Option<Db> {
    let schema = TestSchema::create(test).await?;
    let writer = schema.pool().await;
    postgres::migrate(&writer).await.unwrap();
    let follower = postgres::follow_changes(&schema.pool().await)
        .await
        .unwrap();
    Some(Db {
        changes: follower.feed().subscribe(),
        follower,
        sessions: Arc::new(postgres::PgSessionStore::new(writer.clone())),
        roles: Arc::new(postgres::PgRoleStore::new(writer.clone())),
        keep: Keep::Postgres(schema, writer),
    })
}

impl Db {
    /// The next change, failing the test after [`DEADLINE`].
    async fn next(&mut self) -> Change {
        tokio::time::timeout(DEADLINE, self.changes.next())
            .await
            .expect("no change within the deadline")
            .expect("the follower stopped")
    }

    /// Everything published before a marker change committed after the action under test.
    async fn published(&mut self) -> Vec<Change> {
        let marker = session(UserId::new_v7(), 0);
        self.sessions.insert(&marker).await.unwrap();
        self.sessions.remove(&marker.digest).await.unwrap();
        let marker = Change::Session(*marker.digest.as_bytes());
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                change if change == marker => return seen,
                change => seen.push(change),
            }
        }
    }

    /// Runs `sql` by hand (a DBA), with the digest `$1` if it uses it.
    async fn manual_sql(&self, sql: &'static str, digest: &[u8; 32]) {
        let digest = sql.contains("$1").then(|| digest.to_vec());
        match &self.keep {
            Keep::Sqlite(_, pool) => {
                let mut query = sqlx::query(sql);
                if let Some(digest) = digest {
                    query = query.bind(digest);
                }
                query.execute(pool).await.unwrap();
            }
            Keep::Postgres(_, pool) => {
                let mut query = sqlx::query(sql);
                if let Some(digest) = digest {
                    query = query.bind(digest);
                }
                query.execute(pool).await.unwrap();
            }
        }
    }

    async fn finish(self) {
        assert!(self.follower.feed().is_live());
        let feed = self.follower.feed().clone();
        self.follower.stop().await;
        assert!(!feed.is_live(), "a stopped follower's feed is not live");
        match self.keep {
            Keep::Sqlite(dir, pool) => {
                pool.close().await;
                drop(dir);
            }
            Keep::Postgres(schema, _) => schema.drop_schema().await,
        }
    }
}

fn digest_of(record: &soc2_session::SessionRecord) -> Change {
    Change::Session(*record.digest.as_bytes())
}

fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}

/// The same cases on each backend.
macro_rules! change_log_cases {
    ($open:expr) => {
        #[tokio::test]
        async fn a_removed_session_publishes_its_digest_once() {
            let Some(mut db) = $open else { return };
            let record = session(UserId::new_v7(), 0);
            db.sessions.insert(&record).await.unwrap();
            db.sessions.remove(&record.digest).await.unwrap();
            assert_eq!(db.published().await, vec![digest_of(&record)]);
            db.finish().await;
        }

        #[tokio::test]
        async fn a_rotation_publishes_the_old_digest_only() {
            let Some(mut db) = $open else { return };
            let old = session(UserId::new_v7(), 0);
            db.sessions.insert(&old).await.unwrap();
            let new = session(old.user_id, 0);
            assert!(db.sessions.rotate(&old.digest, &new).await.unwrap());
            assert_eq!(db.published().await, vec![digest_of(&old)]);
            db.finish().await;
        }

        #[tokio::test]
        async fn removing_a_users_sessions_publishes_each_digest() {
            let Some(mut db) = $open else { return };
            let user = UserId::new_v7();
            let (first, second) = (session(user, 0), session(user, 1));
            let other = session(UserId::new_v7(), 0);
            for record in [&first, &second, &other] {
                db.sessions.insert(record).await.unwrap();
            }
            assert_eq!(db.sessions.remove_user(user, None).await.unwrap().len(), 2);
            let mut published = db.published().await;
            published.sort_by_key(|change| format!("{change:?}"));
            let mut expected = vec![digest_of(&first), digest_of(&second)];
            expected.sort_by_key(|change| format!("{change:?}"));
            assert_eq!(published, expected);
            db.finish().await;
        }

        #[tokio::test]
        async fn the_sweep_publishes_each_expired_digest() {
            let Some(mut db) = $open else { return };
            let user = UserId::new_v7();
            let (expired, live) = (session(user, 0), session(user, 10));
            db.sessions.insert(&expired).await.unwrap();
            db.sessions.insert(&live).await.unwrap();
            let now = T0 + time::Duration::minutes(35);
            assert_eq!(db.sessions.remove_expired(now, 10).await.unwrap().len(), 1);
            assert_eq!(db.published().await, vec![digest_of(&expired)]);
            db.finish().await;
        }

        #[tokio::test]
        async fn inserts_and_touches_publish_nothing() {
            let Some(mut db) = $open else { return };
            let record = session(UserId::new_v7(), 0);
            db.sessions.insert(&record).await.unwrap();
            let later = T0 + time::Duration::minutes(5);
            assert!(
                db.sessions
                    .touch(&record.digest, later, later + time::Duration::minutes(30))
                    .await
                    .unwrap()
            );
            assert_eq!(db.published().await, vec![]);
            db.finish().await;
        }

        #[tokio::test]
        async fn a_session_changed_by_hand_publishes_its_old_digest_unless_merely_touched() {
            let Some(mut db) = $open else { return };
            let record = session(UserId::new_v7(), 0);
            db.sessions.insert(&record).await.unwrap();
            let digest = *record.digest.as_bytes();
            db.manual_sql(
                "UPDATE soc2_sessions SET last_seen_at_us = last_seen_at_us + 1, \
                 idle_expires_at_us = idle_expires_at_us + 1 WHERE token_digest = $1",
                &digest,
            )
            .await;
            assert_eq!(db.published().await, vec![], "a touch publishes nothing");
            db.manual_sql(
                "UPDATE soc2_sessions SET absolute_expires_at_us = 0 WHERE token_digest = $1",
                &digest,
            )
            .await;
            assert_eq!(db.published().await, vec![digest_of(&record)]);
            db.manual_sql(
                "UPDATE soc2_sessions SET idle_expires_at_us = 0 WHERE token_digest = $1",
                &digest,
            )
            .await;
            assert_eq!(db.published().await, vec![digest_of(&record)]);
            db.manual_sql(
                "UPDATE soc2_sessions SET token_digest = $1 WHERE token_digest = $1",
                &digest,
            )
            .await;
            assert_eq!(db.published().await, vec![], "nothing changed");
            let mut moved = digest;
            moved[0] ^= 1;
            db.manual_sql(
                "UPDATE soc2_sessions SET token_digest = $1 WHERE user_id IS NOT NULL",
                &moved,
            )
            .await;
            assert_eq!(
                db.published().await,
                vec![digest_of(&record)],
                "the old digest"
            );
            db.finish().await;
        }

        #[tokio::test]
        async fn grants_revocations_and_elevations_publish_the_user() {
            let Some(mut db) = $open else { return };
            let (user, approver) = (UserId::new_v7(), UserId::new_v7());
            let none = SodRules::none();
            db.roles
                .assign(user, &role("dev"), &none, T0)
                .await
                .unwrap();
            assert_eq!(db.published().await, vec![Change::UserRoles(user)]);
            assert!(db.roles.revoke(user, &role("dev")).await.unwrap());
            assert_eq!(db.published().await, vec![Change::UserRoles(user)]);

            let elevation = Elevation {
                id: ElevationId::new_v7(),
                user,
                role: role("ops"),
                reason: "CHG-1".into(),
                requested_by: user,
                requested_at: T0,
                expires_at: T0 + time::Duration::hours(1),
                break_glass: false,
                status: ElevationStatus::Pending,
                decided_by: None,
                decided_at: None,
                revoked_at: None,
            };
            db.roles.add_elevation(&elevation, &none).await.unwrap();
            assert_eq!(db.published().await, vec![Change::UserRoles(user)]);
            let approve = ElevationChange::Approve {
                by: approver,
                rules: &none,
            };
            db.roles
                .change_elevation(elevation.id, approve, T0 + time::Duration::minutes(1))
                .await
                .unwrap();
            assert_eq!(db.published().await, vec![Change::UserRoles(user)]);
            db.roles
                .change_elevation(
                    elevation.id,
                    ElevationChange::Revoke,
                    T0 + time::Duration::minutes(2),
                )
                .await
                .unwrap();
            assert_eq!(db.published().await, vec![Change::UserRoles(user)]);
            db.finish().await;
        }

        #[tokio::test]
        async fn a_hierarchy_change_publishes_role_hierarchy() {
            let Some(mut db) = $open else { return };
            db.roles
                .set_parents(&role("lead"), &[role("dev")])
                .await
                .unwrap();
            assert_eq!(db.published().await, vec![Change::RoleHierarchy]);
            db.finish().await;
        }
    };
}

mod sqlite_log {
    use super::*;

    change_log_cases!(sqlite_db().await);

    #[tokio::test]
    async fn rows_pruned_before_they_were_read_give_a_resync() {
        let mut db = sqlite_db().await.unwrap();
        let Keep::Sqlite(_, pool) = &db.keep else {
            unreachable!()
        };
        let pool = pool.clone();
        let (lost, kept) = (session(UserId::new_v7(), 0), session(UserId::new_v7(), 0));
        db.sessions.insert(&lost).await.unwrap();
        db.sessions.insert(&kept).await.unwrap();
        // One commit that removes both sessions and prunes the first one's row: the follower
        // never sees that row, and finds the next one after a gap.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("DELETE FROM soc2_sessions WHERE token_digest = $1")
            .bind(lost.digest.as_bytes().to_vec())
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("DELETE FROM soc2_changes WHERE seq = (SELECT max(seq) FROM soc2_changes)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("DELETE FROM soc2_sessions WHERE token_digest = $1")
            .bind(kept.digest.as_bytes().to_vec())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(db.published().await, vec![Change::Resync, digest_of(&kept)]);

        // Pruning rows already read costs nothing: the numbering goes on without a gap.
        let pruned = sqlite::prune_changes(
            &pool,
            OffsetDateTime::now_utc() + time::Duration::minutes(1),
        )
        .await
        .unwrap();
        assert_eq!(pruned, 2, "the second session's row and the marker's");
        assert_eq!(db.published().await, vec![]);
        db.finish().await;
    }

    #[tokio::test]
    async fn an_unreadable_log_turns_the_feed_off_until_a_poll_succeeds_then_resyncs() {
        let mut db = sqlite_db().await.unwrap();
        let Keep::Sqlite(_, pool) = &db.keep else {
            unreachable!()
        };
        let pool = pool.clone();
        sqlx::query("ALTER TABLE soc2_changes RENAME TO soc2_changes_away")
            .execute(&pool)
            .await
            .unwrap();
        wait_until(|| !db.follower.feed().is_live(), DEADLINE).await;
        sqlx::query("ALTER TABLE soc2_changes_away RENAME TO soc2_changes")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(db.next().await, Change::Resync);
        wait_until(|| db.follower.feed().is_live(), DEADLINE).await;
        assert_eq!(db.published().await, vec![]);
        db.finish().await;
    }

    #[tokio::test]
    async fn a_new_follower_starts_after_the_last_row_even_when_all_were_pruned() {
        let mut db = sqlite_db().await.unwrap();
        let Keep::Sqlite(_, pool) = &db.keep else {
            unreachable!()
        };
        let pool = pool.clone();
        assert_eq!(db.published().await, vec![]);
        sqlite::prune_changes(
            &pool,
            OffsetDateTime::now_utc() + time::Duration::minutes(1),
        )
        .await
        .unwrap();
        let follower = sqlite::follow_changes(
            &pool,
            sqlite::PollConfig::default().with_poll_interval(POLL),
        )
        .await
        .unwrap();
        let old = std::mem::replace(&mut db.follower, follower);
        old.stop().await;
        db.changes = db.follower.feed().subscribe();
        assert_eq!(
            db.published().await,
            vec![],
            "no resync for rows pruned before the start"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_sqlite_follower_on_a_closed_pool_is_not_live() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("closed.db").display());
    let pool = sqlite::connect(&url).await.unwrap();
    sqlite::migrate(&pool).await.unwrap();
    let follower = sqlite::follow_changes(
        &pool,
        sqlite::PollConfig::default().with_poll_interval(POLL),
    )
    .await
    .unwrap();
    assert!(follower.feed().is_live());
    pool.close().await;
    wait_until(|| !follower.feed().is_live(), DEADLINE).await;
    follower.stop().await;
}

mod postgres_log {
    use super::*;

    change_log_cases!(postgres_db(module_path!()).await);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lost_listener_turns_the_feed_off_then_resyncs_and_follows_again() {
        let Some(schema) = TestSchema::create("changes::postgres_log::lost_listener").await else {
            return;
        };
        let writer = schema.pool().await;
        postgres::migrate(&writer).await.unwrap();
        let name = format!("soc2-feed-{}", uuid_like());
        let follower_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(schema.options().application_name(&name))
            .await
            .unwrap();
        let follower = postgres::follow_changes(&follower_pool).await.unwrap();
        let mut db = Db {
            changes: follower.feed().subscribe(),
            follower,
            sessions: Arc::new(postgres::PgSessionStore::new(writer.clone())),
            roles: Arc::new(postgres::PgRoleStore::new(writer.clone())),
            keep: Keep::Postgres(schema, writer.clone()),
        };
        assert!(db.follower.feed().is_live());

        let terminated: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        )
        .bind(&name)
        .fetch_all(&writer)
        .await
        .unwrap();
        assert_eq!(terminated, vec![true]);
        wait_until(|| !db.follower.feed().is_live(), DEADLINE).await;
        assert_eq!(db.next().await, Change::Resync);
        wait_until(|| db.follower.feed().is_live(), DEADLINE).await;

        let record = session(UserId::new_v7(), 0);
        db.sessions.insert(&record).await.unwrap();
        db.sessions.remove(&record.digest).await.unwrap();
        assert_eq!(db.published().await, vec![digest_of(&record)]);
        db.finish().await;
    }

    /// A network that silently stops carrying packets (no reset, no close): the listener hears
    /// no heartbeat, counts its connection as lost, and once the network is back reconnects
    /// and resyncs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silently_dead_connection_is_caught_by_heartbeats() {
        let Some(schema) = TestSchema::create("changes::postgres_log::silently_dead").await else {
            return;
        };
        let writer = schema.pool().await;
        postgres::migrate(&writer).await.unwrap();
        let upstream = {
            let options = schema.options();
            let host = options.get_host().to_owned();
            let port = options.get_port();
            tokio::net::lookup_host((host.as_str(), port))
                .await
                .unwrap()
                .next()
                .unwrap()
        };
        let proxy = StallingProxy::start(upstream).await;
        let follower_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_millis(500))
            .connect_with(schema.options().host("127.0.0.1").port(proxy.addr().port()))
            .await
            .unwrap();
        let config = postgres::ListenConfig::default()
            .with_heartbeat(Duration::from_millis(50), Duration::from_millis(300));
        let follower = postgres::follow_changes_with(&follower_pool, config)
            .await
            .unwrap();
        let mut db = Db {
            changes: follower.feed().subscribe(),
            follower,
            sessions: Arc::new(postgres::PgSessionStore::new(writer.clone())),
            roles: Arc::new(postgres::PgRoleStore::new(writer.clone())),
            keep: Keep::Postgres(schema, writer),
        };
        assert_eq!(db.published().await, vec![]);

        proxy.stall(true);
        wait_until(|| !db.follower.feed().is_live(), DEADLINE).await;
        proxy.stall(false);
        assert_eq!(db.next().await, Change::Resync);
        wait_until(|| db.follower.feed().is_live(), DEADLINE).await;
        let record = session(UserId::new_v7(), 0);
        db.sessions.insert(&record).await.unwrap();
        db.sessions.remove(&record.digest).await.unwrap();
        assert_eq!(db.published().await, vec![digest_of(&record)]);
        db.finish().await;
    }

    #[tokio::test]
    async fn a_truncate_publishes_a_resync() {
        let Some(mut db) = postgres_db(module_path!()).await else {
            return;
        };
        db.sessions
            .insert(&session(UserId::new_v7(), 0))
            .await
            .unwrap();
        db.manual_sql("TRUNCATE soc2_sessions, soc2_role_parents", &[0; 32])
            .await;
        assert_eq!(db.published().await, vec![Change::Resync]);
        db.finish().await;
    }

    #[tokio::test]
    async fn another_schemas_changes_are_not_published() {
        let Some(mut db) = postgres_db(module_path!()).await else {
            return;
        };
        let Some(other) = postgres_db(module_path!()).await else {
            return;
        };
        let record = session(UserId::new_v7(), 0);
        other.sessions.insert(&record).await.unwrap();
        other.sessions.remove(&record.digest).await.unwrap();
        assert_eq!(db.published().await, vec![]);
        other.finish().await;
        db.finish().await;
    }
}

/// A unique-enough suffix for an application name.
fn uuid_like() -> String {
    UserId::new_v7().to_string()
}
