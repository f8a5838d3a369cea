//! Issue 13, point 5: password hashing runs on a bounded pool. With every worker busy and the
//! queue timeout spent, a login answers 503 with `Retry-After`; the other routes, and the
//! logins after the pool frees up, are served as usual.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::sync::Mutex;

use http::StatusCode;
use middleware_builtin::auth::hashers::Hasher;
use middleware_builtin::auth::{
    self, AuthBackends, Credentials, InMemoryUserBackend, User, MODEL_BACKEND,
};
use middleware_builtin::BuiltinOptions;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    Chain, Error, Registry, Request, RequestExt, Response, Route, Router, Settings,
};

/// Released by the test to let the `/hold/` view's hash finish.
static RELEASE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);
/// Told by the `/hold/` view's hash once it runs on a worker.
static STARTED: Mutex<Option<tokio::sync::oneshot::Sender<()>>> = Mutex::new(None);

/// Occupies a hashing worker until the test releases it: a stand-in for a slow hash.
async fn hold(req: &mut Request) -> Result<Response, Error> {
    let hashing = auth::auth_config(req)?.hashing().clone();
    let release = RELEASE.lock().unwrap().take().unwrap();
    let started = STARTED.lock().unwrap().take().unwrap();
    hashing
        .run(move |_| {
            let _ = started.send(());
            let _ = release.recv();
        })
        .await
        .map_err(Error::internal)?;
    Ok(text(StatusCode::OK, "held"))
}

async fn login(req: &mut Request) -> Result<Response, Error> {
    let q = req.query();
    let creds = Credentials::new(q.get("u").unwrap_or(""), q.get("p").unwrap_or(""));
    match auth::authenticate(req, &creds).await? {
        Some(user) => {
            auth::login(req, &user, None).await?;
            Ok(text(StatusCode::OK, format!("user={}", user.username)))
        }
        None => Ok(text(StatusCode::OK, "bad credentials")),
    }
}

async fn plain(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "plain"))
}

fn chain(extra: &str) -> (Chain, InMemoryUserBackend) {
    let users = InMemoryUserBackend::new();
    let md5 = Hasher::Md5
        .encode("wonderland", "saltsaltsaltsaltsaltsa")
        .unwrap();
    users.insert(User::new("1", "alice", md5));
    let backends = AuthBackends::new();
    backends.insert(MODEL_BACKEND, users.clone());
    let mut registry = Registry::new();
    middleware_builtin::register_all_with(
        &mut registry,
        BuiltinOptions::default().auth_backends(backends),
    );
    let extra = if extra.contains("PASSWORD_HASHERS") {
        extra.to_owned()
    } else {
        format!("{extra}\nPASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\"]")
    };
    let settings = Settings::from_toml_str(
        &format!(
            r#"
            SECRET_KEY = "django-insecure-test-key-0123456789"
            ALLOWED_HOSTS = ["testserver"]
            MIDDLEWARE = [
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
            ]
            {extra}
            "#
        ),
        "settings.toml",
    )
    .unwrap();
    let mut router = Router::new();
    router.add(Route::new("hold/", hold)).unwrap();
    router.add(Route::new("login/", login)).unwrap();
    router.add(Route::new("plain/", plain)).unwrap();
    (
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
        users,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_flood_beyond_the_pool_gets_503_with_retry_after() {
    let (chain, _) = chain("PASSWORD_HASHING_WORKERS = 1\nPASSWORD_HASHING_QUEUE_TIMEOUT = 0");
    let (release, release_rx) = mpsc::channel();
    let (started_tx, started) = tokio::sync::oneshot::channel();
    *RELEASE.lock().unwrap() = Some(release_rx);
    *STARTED.lock().unwrap() = Some(started_tx);
    let held = tokio::spawn({
        let mut client = Client::new(chain.clone());
        async move { client.get("/hold/").await }
    });
    started.await.unwrap();

    // The only worker is busy: every login is refused at once, with Retry-After.
    let mut client = Client::new(chain.clone());
    for _ in 0..5 {
        let r = client.get("/login/?u=alice&p=wonderland").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.set_cookie("sessionid").is_none());
    }
    // An unknown user too: the fake hash also needs a worker.
    let r = client.get("/login/?u=nobody&p=x").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    // Routes that hash nothing are not affected.
    let r = client.get("/plain/").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "plain"));

    release.send(()).unwrap();
    assert_eq!(held.await.unwrap().text(), "held");
    let r = client.get("/login/?u=alice&p=wonderland").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, "user=alice")
    );
}

// A hash that waits for a worker within the queue timeout runs once one frees up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_waits_in_the_queue_within_its_timeout() {
    let hashing = middleware_builtin::auth::hashers::PasswordHashing::from_settings(
        &Settings::from_toml_str("PASSWORD_HASHING_WORKERS = 1", "s.toml").unwrap(),
    )
    .unwrap();
    assert_eq!(hashing.workers(), 1);
    let (release, release_rx) = mpsc::channel::<()>();
    let busy = tokio::spawn({
        let hashing = hashing.clone();
        async move { hashing.run(move |_| release_rx.recv().is_ok()).await }
    });
    while hashing.busy() == 0 {
        tokio::task::yield_now().await;
    }
    let queued = tokio::spawn({
        let hashing = hashing.clone();
        async move { hashing.verify_password("wonderland", "!unusable").await }
    });
    release.send(()).unwrap();
    assert!(busy.await.unwrap().unwrap());
    assert!(!queued.await.unwrap().unwrap().is_correct);
}

// A correct password hashed with another hasher than the preferred one is hashed again on
// login (Django's check_password setter), so the next login needs no upgrade.
#[tokio::test]
async fn login_upgrades_the_stored_hash() {
    let (chain, users) = chain(
        r#"PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]"#,
    );
    let mut client = Client::new(chain);
    let r = client.get("/login/?u=alice&p=wonderland").await;
    assert_eq!(r.text(), "user=alice");
    let upgraded = users.user("1").unwrap().password;
    assert!(upgraded.starts_with("scrypt$16384$"), "{upgraded}");
    let r = client.get("/login/?u=alice&p=wonderland").await;
    assert_eq!(r.text(), "user=alice");
    assert_eq!(users.user("1").unwrap().password, upgraded);
    let r = client.get("/login/?u=alice&p=wrong").await;
    assert_eq!(r.text(), "bad credentials");
}

#[test]
fn pool_settings_are_checked() {
    let s = |t: &str| Settings::from_toml_str(t, "settings.toml").unwrap();
    use middleware_builtin::auth::hashers::PasswordHashing;
    let d = PasswordHashing::from_settings(&s("")).unwrap();
    assert_eq!(
        d.workers(),
        std::thread::available_parallelism().unwrap().get()
    );
    assert!(PasswordHashing::from_settings(&s("PASSWORD_HASHING_WORKERS = 0")).is_err());
    assert!(PasswordHashing::from_settings(&s("PASSWORD_HASHING_QUEUE_TIMEOUT = -1")).is_err());
}
