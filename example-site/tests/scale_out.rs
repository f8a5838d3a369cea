//! Scale-out: two example-site processes (the real binary) share one `redis-server` for
//! sessions (`SESSION_ENGINE = cache`) and the site cache (`UpdateCacheMiddleware` first,
//! `FetchFromCacheMiddleware` last), as two instances behind a load balancer would.
//!
//! A login through instance A is seen through B; a page cached by A is served by B; with Redis
//! stopped every request still answers within 2 s and the logs say why; once Redis is back the
//! instances recover without a restart. Skipped (with a visible SKIP) without `redis-server`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "../../middleware-builtin/tests/support/redis_server.rs"]
mod redis_server;

use std::path::Path;
use std::time::{Duration, Instant};

use redis_server::RedisServer;
use support::{http, target_dir, Answer, Site};

/// The host both instances are reached by (through the proxy): the site cache key includes it.
const HOST: &str = "app.example";
/// Every request must answer within this, even with Redis down.
const LIMIT: Duration = Duration::from_secs(2);

fn settings(redis_port: u16) -> String {
    format!(
        r#"
DEBUG = false
SECRET_KEY = "scale-out-test-key-shared-by-every-instance-0123456789"
ALLOWED_HOSTS = ["{HOST}"]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_REDIRECT_URL = "/"
CACHE_MIDDLEWARE_SECONDS = 600
CACHE_MIDDLEWARE_KEY_PREFIX = "scale"
MIDDLEWARE = [
    "django.middleware.cache.UpdateCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.cache.FetchFromCacheMiddleware",
]

[CACHES.default]
BACKEND = "django.core.cache.backends.redis.RedisCache"
LOCATION = "redis://127.0.0.1:{redis_port}/0"
"#
    )
}

fn get(site: &Site, path: &str, cookie: &str) -> Result<Answer, String> {
    let mut headers = vec![("Host", HOST)];
    if !cookie.is_empty() {
        headers.push(("Cookie", cookie));
    }
    http(site.port, "GET", path, &headers, "", LIMIT)
}

fn cookie_value(answer: &Answer, name: &str) -> Option<String> {
    answer
        .set_cookies()
        .into_iter()
        .find(|(n, v)| n == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// Logs in as the demo user through `site`: the `sessionid` cookie.
fn login(site: &Site) -> String {
    let form = get(site, "/accounts/login/", "").unwrap();
    assert_eq!(form.status, 200, "{form:?}");
    let csrf_cookie = cookie_value(&form, "csrftoken").expect("csrftoken cookie");
    let token = form
        .body
        .split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("token in the form")
        .to_owned();
    let body = format!(
        "csrfmiddlewaretoken={token}&username=demo&password=demo-password&next=%2Fprivate%2F"
    );
    let cookie = format!("csrftoken={csrf_cookie}");
    // Password hashing (1.5 M PBKDF2 rounds) may take more than LIMIT on a loaded machine.
    let answer = http(
        site.port,
        "POST",
        "/accounts/login/",
        &[
            ("Host", HOST),
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(answer.status, 302, "{answer:?}");
    assert_eq!(answer.header("location"), Some("/private/"));
    cookie_value(&answer, "sessionid").expect("sessionid cookie")
}

fn signed_in(site: &Site, session: &str) -> bool {
    let answer = get(site, "/private/", &format!("sessionid={session}")).unwrap();
    answer.status == 200 && answer.body.contains("Signed in as demo")
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// The log at `path` once it contains every one of `needles`, or after 5 s. The site's log
/// is written by a thread of its own (a non-blocking writer), so a line can reach the file
/// a moment after the response it describes.
fn log_with(path: &Path, needles: &[&str]) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if needles.iter().all(|n| text.contains(n)) || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_instances_share_sessions_and_the_site_cache_through_redis() {
    let Some(mut redis) = RedisServer::start() else {
        eprintln!("SKIP: scale-out test needs redis-server");
        return;
    };
    let redis_port = redis.port;
    let dir = target_dir("scale-out");
    let settings_path = dir.join(format!("settings-{}.toml", std::process::id()));
    std::fs::write(&settings_path, settings(redis_port)).unwrap();
    let (log_a, log_b) = (dir.join("a.log"), dir.join("b.log"));
    let a = Site::start(Some(&settings_path), Some(&log_a));
    let b = Site::start(Some(&settings_path), Some(&log_b));

    // A login through A is a login through B: the session lives in Redis.
    let session = login(&a);
    assert!(signed_in(&b, &session), "B sees A's login");
    let anonymous = get(&b, "/private/", "").unwrap();
    assert_eq!(anonymous.status, 302);
    assert_eq!(
        anonymous.header("location"),
        Some("/accounts/login/?next=/private/")
    );

    // A page cached by A is served by B from Redis: same body (the generation time).
    let first = get(&a, "/cached/", "").unwrap();
    assert_eq!(first.status, 200);
    assert!(first.body.starts_with("generated at "), "{first:?}");
    let from_b = get(&b, "/cached/", "").unwrap();
    assert_eq!(from_b.body, first.body, "B served A's cached page");
    assert!(
        from_b.header("age").is_some(),
        "served from the cache: {from_b:?}"
    );

    // Redis hangs (frozen with SIGSTOP: connections open, no answers): the command time limits
    // turn it into errors, so every request still answers within the limit.
    signal(redis.pid(), "-STOP");
    for site in [&a, &b] {
        for path in ["/cached/", "/hello/"] {
            let started = Instant::now();
            let answer =
                get(site, path, "").unwrap_or_else(|e| panic!("{path} with Redis frozen: {e}"));
            assert!(
                started.elapsed() < LIMIT,
                "{path} took {:?}",
                started.elapsed()
            );
            assert_eq!(answer.status, 200);
        }
    }
    signal(redis.pid(), "-CONT");

    // Redis goes away: every request still answers, within the limit, and the logs say why.
    redis.stop();
    for site in [&a, &b] {
        for (path, cookie) in [
            ("/cached/", String::new()),
            ("/private/", format!("sessionid={session}")),
            ("/hello/", String::new()),
        ] {
            let started = Instant::now();
            let answer =
                get(site, path, &cookie).unwrap_or_else(|e| panic!("{path} with Redis down: {e}"));
            assert!(
                started.elapsed() < LIMIT,
                "{path} took {:?}",
                started.elapsed()
            );
            match path {
                // The site cache is bypassed: a fresh page.
                "/cached/" => {
                    assert_eq!(answer.status, 200);
                    assert_ne!(answer.body, first.body, "not from the (gone) cache");
                }
                // The session cannot be loaded: anonymous, so back to the login page.
                "/private/" => assert_eq!(answer.status, 302, "{answer:?}"),
                _ => assert_eq!(answer.status, 200),
            }
        }
    }
    for log in [&log_a, &log_b] {
        let text = log_with(
            log,
            &[
                "cache unavailable; serving without the cache",
                "session store failed while loading",
            ],
        );
        assert!(
            text.contains("cache unavailable; serving without the cache"),
            "the site cache outage is logged in {}:\n{text}",
            log.display()
        );
        assert!(
            text.contains("session store failed while loading"),
            "the session store outage is logged in {}:\n{text}",
            log.display()
        );
    }

    // Redis is back (empty: it kept nothing): both instances recover without a restart.
    let _redis = RedisServer::start_on(redis_port).expect("redis-server restarts");
    let session = login(&b);
    assert!(signed_in(&a, &session), "A sees B's login after the outage");
    let first = get(&b, "/cached/", "").unwrap();
    let from_a = get(&a, "/cached/", "").unwrap();
    assert_eq!(from_a.body, first.body, "the shared cache works again");
    let _ = std::fs::remove_file(&settings_path);
}
