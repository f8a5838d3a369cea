//! `cached_db` sessions while Redis, then PostgreSQL, restart under traffic (issue 14: "restarting
//! Redis or PostgreSQL under traffic fails no request once the service is back"). Two instances
//! share one PostgreSQL database (persistent pooled connections, `CONN_MAX_AGE = None`) and one
//! Redis: one serves a steady stream of writes and reads, the other stays idle through both
//! restarts, so its pooled connections die unnoticed.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use super::redis_server::RedisServer;
use super::*;
use crate::db::tests::postgres_server::PostgresServer;

const WARM: u8 = 0;
const REDIS_DOWN: u8 = 1;
const REDIS_BACK: u8 = 2;
const PG_DOWN: u8 = 3;
const PG_BACK: u8 = 4;

/// One request of the traffic: the phase it started in, its status, how long it took, and
/// (for reads) whether it saw the last value written successfully.
#[derive(Debug)]
struct Record {
    phase: u8,
    status: u16,
    took: Duration,
    consistent: bool,
}

/// Writes `k = n` and reads it back in a loop until `stop`, recording every request.
async fn traffic(mut c: Client, phase: Arc<AtomicU8>, stop: Arc<AtomicBool>) -> Vec<Record> {
    let mut records = Vec::new();
    let mut written: Option<u64> = None;
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let started_in = phase.load(Ordering::SeqCst);
        let t0 = Instant::now();
        let r = c.get(&format!("/set/?k={n}")).await;
        if r.status == 200 {
            written = Some(n);
        }
        records.push(Record {
            phase: started_in,
            status: r.status.as_u16(),
            took: t0.elapsed(),
            consistent: true,
        });
        let started_in = phase.load(Ordering::SeqCst);
        let t0 = Instant::now();
        let r = c.get("/get/?k=k").await;
        let consistent = r.status != 200 || written.is_none_or(|w| r.text() == format!("\"{w}\""));
        records.push(Record {
            phase: started_in,
            status: r.status.as_u16(),
            took: t0.elapsed(),
            consistent,
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    records
}

/// Lets the request in flight (started in the previous phase) finish before the next step.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_db_restarts_under_traffic_fail_no_request_once_back() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    pg.create_database("outage");
    let t = target(format!(
        "{}CONN_MAX_AGE = \"None\"\nOPTIONS = {{ connect_timeout = 1 }}\n",
        pg.settings("outage")
    ))
    .await;
    let conf = format!(
        "SESSION_ENGINE = \"{CACHED_DB_ENGINE}\"\n{}\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://127.0.0.1:{}/0\"\n",
        t.databases, redis.port
    );
    let busy = client(&conf);
    let mut idle = client(&conf);
    assert_eq!(idle.get("/set/?k=idle").await.status, 200);
    let idle_key = idle.cookie("sessionid").unwrap().to_owned();

    let phase = Arc::new(AtomicU8::new(WARM));
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn(traffic(busy, phase.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Redis restarts (it keeps nothing): the database is the truth, so no request fails even
    // while it is down, and the idle instance reads its session from the row afterwards.
    phase.store(REDIS_DOWN, Ordering::SeqCst);
    settle().await;
    let port = redis.port;
    redis.stop();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _redis = RedisServer::start_on(port).expect("Redis restarts on its port");
    phase.store(REDIS_BACK, Ordering::SeqCst);
    assert_eq!(idle.get("/get/?k=k").await.text(), "\"idle\"");
    // And its cache is filled again, on a new connection, in Django's key.
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let cached: i64 = redis::cmd("EXISTS")
        .arg(format!(":1:{CACHED_DB_KEY_PREFIX}{idle_key}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(cached, 1, "the read filled the restarted cache");
    tokio::time::sleep(Duration::from_millis(800)).await;

    // PostgreSQL restarts: while it is down saves fail (fast); once it is back, none does, on
    // the busy instance nor on the idle one whose pooled connection died while idle.
    phase.store(PG_DOWN, Ordering::SeqCst);
    settle().await;
    pg.stop();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(pg.start_again(), "PostgreSQL restarts");
    phase.store(PG_BACK, Ordering::SeqCst);
    assert_eq!(idle.get("/set/?k=after").await.status, 200);
    assert_eq!(idle.get("/get/?k=k").await.text(), "\"after\"");
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::SeqCst);
    let records = traffic.await.unwrap();

    for p in [WARM, REDIS_DOWN, REDIS_BACK, PG_DOWN, PG_BACK] {
        let of_phase: Vec<&Record> = records.iter().filter(|r| r.phase == p).collect();
        assert!(!of_phase.is_empty(), "no request in phase {p}");
        for r in &of_phase {
            assert!(r.took < Duration::from_secs(5), "phase {p}: {r:?}");
            assert!(
                r.consistent,
                "phase {p}: a read missed the last write: {r:?}"
            );
            if p != PG_DOWN {
                assert_eq!(r.status, 200, "phase {p}: {r:?}");
            }
        }
    }
    let failed_while_down = records
        .iter()
        .filter(|r| r.phase == PG_DOWN && r.status != 200)
        .count();
    eprintln!(
        "{} requests; {failed_while_down} failed while PostgreSQL was down, none otherwise",
        records.len()
    );
}
