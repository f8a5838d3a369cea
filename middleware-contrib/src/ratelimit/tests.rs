//! Ports of django-ratelimit 4.1's `django_ratelimit/tests.py`. The original calls decorated
//! views built with `RequestFactory` (REMOTE_ADDR 127.0.0.1); here the decorator is a route
//! marker, the view answers `limited`/`ok` from [`Limited`], and requests come from the test
//! client with a peer address.

use std::net::SocketAddr;

use super::*;
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{Body, Chain, Route, Router};

async fn view(request: &mut Request) -> Result<Response, Error> {
    let limited = request.extensions().get::<Limited>().is_some_and(|l| l.0);
    Ok(Response::new(if limited { "limited" } else { "ok" }.into()))
}

/// Puts `AuthenticatedUser` from `x-test-user` (the original's `MockUser(authenticated=True)`).
struct FakeAuth(Next);

#[async_trait]
impl Middleware for FakeAuth {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        if let Some(pk) = request.headers().get("x-test-user").cloned() {
            let pk = String::from_utf8_lossy(pk.as_bytes()).into_owned();
            request.extensions_mut().insert(AuthenticatedUser(pk));
        }
        Ok(self.0.get_response(request).await)
    }
}

const LOCAL: &str = "127.0.0.1:40000";

fn registry() -> Registry {
    let mut registry = Registry::new();
    register(&mut registry);
    registry.register("FakeAuth", |next, _| Ok(FakeAuth(next)));
    registry
}

fn settings(conf: &str) -> Settings {
    Settings::from_toml_str(
        &format!(
            "ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"FakeAuth\", \"django_ratelimit.middleware.RatelimitMiddleware\"]\n{conf}"
        ),
        "test.toml",
    )
    .unwrap()
}

/// A chain whose routes `("a/", rules)` carry the given stacked rules.
fn chain(conf: &str, routes: Vec<(&str, Vec<Ratelimit>)>) -> Chain {
    let mut router = Router::new();
    for (path, rules) in routes {
        router
            .add(Route::new(path, view).marker(Ratelimits(rules)))
            .unwrap();
    }
    Chain::builder(&registry(), &settings(conf))
        .urls(router)
        .build()
        .unwrap()
}

fn client(conf: &str, rules: Vec<Ratelimit>) -> Client {
    Client::new(chain(conf, vec![("", rules)])).remote_addr(LOCAL.parse().unwrap())
}

async fn send(c: &mut Client, method: &str, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    c.request(method.parse().unwrap(), path, headers, Body::empty())
        .await
}

/// Whether the view saw `request.limited`.
async fn limited(c: &mut Client, method: &str) -> bool {
    let r = send(c, method, "/", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text() == "limited"
}

// django_ratelimit: tests.py::RateParsingTests::test_simple
#[test]
fn test_simple() {
    for (text, count, seconds) in [
        ("100/s", 100, 1),
        ("100/10s", 100, 10),
        ("100/10", 100, 10),
        ("100/m", 100, 60),
        ("400/10m", 400, 600),
        ("1000/h", 1000, 3600),
        ("800/d", 800, 86400),
    ] {
        assert_eq!(parse_rate(text), Some(Rate { count, seconds }), "{text}");
    }
    // re.match quirks: an upper-case unit is not matched, so it reads as seconds.
    assert_eq!(
        parse_rate("5/M"),
        Some(Rate {
            count: 5,
            seconds: 1
        })
    );
    for bad in [
        "",
        "m",
        "/m",
        "x5/m",
        "5m",
        "99999999999999999999999/s",
        "5/99999999999999999999d",
    ] {
        assert_eq!(parse_rate(bad), None, "{bad}");
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_no_key
#[tokio::test]
async fn test_no_key() {
    let mut c = client("", vec![Ratelimit::without_key("1/m")]);
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 500);
}

/// A rate that does not parse is `ImproperlyConfigured` at request time (a 500), as the
/// original fails in `_split_rate`; and so is a zero period.
#[tokio::test]
async fn bad_rate_is_a_server_error() {
    for rate in ["lots", "5/0s"] {
        let mut c = client("", vec![Ratelimit::new("ip", rate)]);
        assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 500, "{rate}");
    }
    let mut c = client("", vec![Ratelimit::new("cookie:x", "1/m")]);
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 500);
    let mut c = client("", vec![Ratelimit::new("nonsense", "1/m")]);
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 500);
}

// django_ratelimit: tests.py::RatelimitTests::test_ip
#[tokio::test]
async fn test_ip() {
    let mut c = client("", vec![Ratelimit::new("ip", "1/m").block(false)]);
    assert!(!limited(&mut c, "GET").await, "First request works.");
    assert!(limited(&mut c, "GET").await, "Second request is limited");
    // Another address has its own counter.
    c.set_remote_addr(Some("127.0.0.2:1".parse().unwrap()));
    assert!(!limited(&mut c, "GET").await);
}

// django_ratelimit: tests.py::RatelimitTests::test_block (an unhandled `Ratelimited` is a
// PermissionDenied: 403)
#[tokio::test]
async fn test_block() {
    let mut c = client("", vec![Ratelimit::new("ip", "1/m")]);
    let first = send(&mut c, "GET", "/", &[]).await;
    assert_eq!((first.status.as_u16(), first.text().as_str()), (200, "ok"));
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 403);
}

/// `RatelimitMiddleware.process_exception`: `RATELIMIT_VIEW` answers blocked requests.
#[tokio::test]
async fn ratelimit_view_answers_blocked_requests() {
    let conf = format!("RATELIMIT_VIEW = \"{TOO_MANY_REQUESTS_VIEW}\"");
    let mut c = client(&conf, vec![Ratelimit::new("ip", "1/m")]);
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 200);
    let r = send(&mut c, "GET", "/", &[]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text(), "429 Too Many Requests\n");

    // A custom view registered by name.
    let views = RatelimitViews::new();
    views.insert(
        "myapp.views.slow_down",
        Arc::new(|_: &Request| middleware_core::response::text(StatusCode::FORBIDDEN, "slow down")),
    );
    let mut registry = Registry::new();
    register_with(&mut registry, views);
    let mut router = Router::new();
    router
        .add(Route::new("", view).marker(Ratelimit::new("ip", "0/m")))
        .unwrap();
    let s = Settings::from_toml_str(
        "MIDDLEWARE = [\"RatelimitMiddleware\"]\nALLOWED_HOSTS = [\"*\"]\nRATELIMIT_VIEW = \"myapp.views.slow_down\"",
        "t",
    )
    .unwrap();
    let chain = Chain::builder(&registry, &s).urls(router).build().unwrap();
    let mut c = Client::new(chain).remote_addr(LOCAL.parse().unwrap());
    assert_eq!(send(&mut c, "GET", "/", &[]).await.text(), "slow down");
}

// django_ratelimit: tests.py::RatelimitTests::test_method
#[tokio::test]
async fn test_method() {
    let rule = Ratelimit::new("ip", "1/m")
        .method("POST")
        .group("a")
        .block(false);
    let mut c = client("", vec![rule]);
    assert!(!limited(&mut c, "POST").await, "Do not limit first POST.");
    assert!(limited(&mut c, "POST").await, "Limit second POST.");
    assert!(!limited(&mut c, "GET").await, "Do not limit GET.");
}

// django_ratelimit: tests.py::RatelimitTests::test_unsafe_methods
#[tokio::test]
async fn test_unsafe_methods() {
    let rule = Ratelimit::new("ip", "0/m")
        .methods(Methods::unsafe_methods())
        .block(false);
    let mut c = client("", vec![rule]);
    for m in ["GET", "OPTIONS"] {
        assert!(!limited(&mut c, m).await, "{m}");
    }
    assert_eq!(send(&mut c, "HEAD", "/", &[]).await.status, 200);
    for m in ["DELETE", "POST", "PUT", "PATCH"] {
        assert!(limited(&mut c, m).await, "{m}");
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_key_get
#[tokio::test]
async fn test_key_get() {
    let rule = Ratelimit::new("get:foo", "1/m").method("GET").block(false);
    let mut c = client("", vec![rule]);
    for q in ["a", "b"] {
        let path = format!("/?foo={q}");
        assert_eq!(send(&mut c, "GET", &path, &[]).await.text(), "ok");
        assert_eq!(send(&mut c, "GET", &path, &[]).await.text(), "limited");
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_key_post
#[tokio::test]
async fn test_key_post() {
    let mut c = client("", vec![Ratelimit::new("post:foo", "1/m").block(false)]);
    for v in ["a", "b"] {
        assert_eq!(c.post_form("/", &[("foo", v)]).await.text(), "ok");
        assert_eq!(c.post_form("/", &[("foo", v)]).await.text(), "limited");
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_key_header
#[tokio::test]
async fn test_key_header() {
    let rules = vec![
        Ratelimit::new("header:x-real-ip", "1/m").block(false),
        Ratelimit::new("header:x-missing-header", "1/m").block(false),
    ];
    let mut c = client("", rules);
    let h = [("x-real-ip", "1.2.3.4")];
    assert_eq!(send(&mut c, "POST", "/", &h).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &h).await.text(), "limited");
}

// django_ratelimit: tests.py::RatelimitTests::test_rate
#[tokio::test]
async fn test_rate() {
    let mut c = client("", vec![Ratelimit::new("ip", "2/m").block(false)]);
    assert!(
        !limited(&mut c, "POST").await,
        "First request is not limited."
    );
    assert!(
        !limited(&mut c, "POST").await,
        "Second request is not limited."
    );
    assert!(limited(&mut c, "POST").await, "Third request is limited.");
}

// django_ratelimit: tests.py::RatelimitTests::test_zero_rate
#[tokio::test]
async fn test_zero_rate() {
    let mut c = client("", vec![Ratelimit::new("ip", "0/m").block(false)]);
    assert!(limited(&mut c, "POST").await);
}

// django_ratelimit: tests.py::RatelimitTests::test_none_rate
#[tokio::test]
async fn test_none_rate() {
    let mut c = client(
        "",
        vec![Ratelimit::new("ip", "1/m").unlimited().block(false)],
    );
    for _ in 0..7 {
        assert!(!limited(&mut c, "POST").await);
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_callable_rate
#[tokio::test]
async fn test_callable_rate() {
    let get_rate: RateFn = Arc::new(|_: &str, r: &Request| {
        let authenticated = r.extensions().get::<AuthenticatedUser>().is_some();
        Some(Rate {
            count: if authenticated { 2 } else { 1 },
            seconds: 60,
        })
    });
    let rule = Ratelimit::new("user_or_ip", "")
        .rate_fn(get_rate)
        .block(false);
    let mut c = client("", vec![rule]);
    let user = [("x-test-user", "1")];
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "limited");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "limited");
}

// django_ratelimit: tests.py::RatelimitTests::test_callable_rate_none
#[tokio::test]
async fn test_callable_rate_none() {
    let get_rate: RateFn = Arc::new(|_: &str, r: &Request| {
        if r.headers().contains_key("x-never-limit") {
            None
        } else {
            parse_rate("1/m")
        }
    });
    let mut c = client(
        "",
        vec![Ratelimit::new("ip", "").rate_fn(get_rate).block(false)],
    );
    let never = [("x-never-limit", "1")];
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "limited");
    assert_eq!(send(&mut c, "POST", "/", &never).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &never).await.text(), "ok");
}

// django_ratelimit: tests.py::RatelimitTests::test_callable_rate_zero
#[tokio::test]
async fn test_callable_rate_zero() {
    let get_rate: RateFn = Arc::new(|_: &str, r: &Request| {
        let authenticated = r.extensions().get::<AuthenticatedUser>().is_some();
        parse_rate(if authenticated { "1/m" } else { "0/m" })
    });
    let mut c = client(
        "",
        vec![Ratelimit::new("ip", "").rate_fn(get_rate).block(false)],
    );
    let user = [("x-test-user", "1")];
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "limited");
    // Another rate means another counter, although the key value (the IP) is the same.
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "limited");
}

// django_ratelimit: tests.py::RatelimitTests::test_user_or_ip
#[tokio::test]
async fn test_user_or_ip() {
    let mut c = client("", vec![Ratelimit::new("user_or_ip", "1/m").block(false)]);
    let user = [("x-test-user", "1")];
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &[]).await.text(), "limited");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "ok");
    assert_eq!(send(&mut c, "POST", "/", &user).await.text(), "limited");
}

// django_ratelimit: tests.py::RatelimitTests::test_callable_key
#[tokio::test]
async fn test_callable_key() {
    // `mykey`: the reversed REMOTE_ADDR.
    let mykey: KeyFn = Arc::new(|_: &str, r: &Request| {
        r.connection_info()
            .and_then(|c| c.remote_addr)
            .map(|a| a.ip().to_string().chars().rev().collect())
            .unwrap_or_default()
    });
    let mut c = client(
        "",
        vec![Ratelimit::new("", "1/m").key_fn(mykey).block(false)],
    );
    assert!(!limited(&mut c, "POST").await);
    assert!(limited(&mut c, "POST").await);
}

// django_ratelimit: tests.py::RatelimitTests::test_stacked_decorator
#[tokio::test]
async fn test_stacked_decorator() {
    let constant =
        |v: &'static str| -> KeyFn { Arc::new(move |_: &str, _: &Request| v.to_owned()) };
    let rules = vec![
        Ratelimit::new("", "1/m")
            .key_fn(constant("min"))
            .block(false),
        Ratelimit::new("", "10/d")
            .key_fn(constant("day"))
            .block(false),
    ];
    let mut c = client("", rules);
    assert!(!limited(&mut c, "POST").await);
    // The second rule is not limited: it must not reset `limited` set by the first.
    assert!(limited(&mut c, "POST").await);
}

// django_ratelimit: tests.py::RatelimitTests::test_stacked_methods
#[tokio::test]
async fn test_stacked_methods() {
    let rules = vec![
        Ratelimit::new("ip", "1/m").method("GET").block(false),
        Ratelimit::new("ip", "1/m").method("POST").block(false),
    ];
    let mut c = client("", rules);
    assert!(!limited(&mut c, "GET").await);
    assert!(!limited(&mut c, "POST").await);
    assert!(limited(&mut c, "GET").await);
    assert!(limited(&mut c, "POST").await);
}

// django_ratelimit: tests.py::RatelimitTests::test_sorted_methods
#[tokio::test]
async fn test_sorted_methods() {
    let rule = |ms: &[&str]| {
        Ratelimit::new("ip", "1/m")
            .methods(Methods::List(ms.iter().map(|m| (*m).to_owned()).collect()))
            .group("a")
            .block(false)
    };
    let chain = chain(
        "",
        vec![
            ("get_post/", vec![rule(&["GET", "POST"])]),
            ("post_get/", vec![rule(&["post", "GET"])]),
        ],
    );
    let mut c = Client::new(chain).remote_addr(LOCAL.parse().unwrap());
    assert_eq!(send(&mut c, "GET", "/get_post/", &[]).await.text(), "ok");
    assert_eq!(
        send(&mut c, "GET", "/post_get/", &[]).await.text(),
        "limited"
    );
}

// django_ratelimit: tests.py::RatelimitCBVTests::test_views_counted_separately
#[tokio::test]
async fn test_views_counted_separately() {
    let rule = || vec![Ratelimit::new("ip", "1/m").method("GET").block(false)];
    let chain = chain("", vec![("one/", rule()), ("two/", rule())]);
    let mut c = Client::new(chain).remote_addr(LOCAL.parse().unwrap());
    assert_eq!(send(&mut c, "GET", "/one/", &[]).await.text(), "ok");
    assert_eq!(send(&mut c, "GET", "/one/", &[]).await.text(), "limited");
    assert_eq!(send(&mut c, "GET", "/two/", &[]).await.text(), "ok");
}

async fn masked(conf: &str, sequence: &[(&str, bool)]) {
    let mut c = client(conf, vec![Ratelimit::new("ip", "1/m").block(false)]);
    for (ip, expected) in sequence {
        let addr: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 5000);
        c.set_remote_addr(Some(addr));
        assert_eq!(limited(&mut c, "GET").await, *expected, "{conf} {ip}");
    }
}

// django_ratelimit: tests.py::RatelimitTests::test_ratelimit_full_mask_v4
#[tokio::test]
async fn test_ratelimit_full_mask_v4() {
    let seq = [("10.1.1.1", false), ("10.1.1.1", true), ("10.1.1.2", false)];
    masked("RATELIMIT_IPV4_MASK = 32", &seq).await;
}

// django_ratelimit: tests.py::RatelimitTests::test_ratelimit_full_mask_v6
#[tokio::test]
async fn test_ratelimit_full_mask_v6() {
    let seq = [
        ("2001:db8::1000", false),
        ("2001:db8::1000", true),
        ("2001:db8::1001", false),
    ];
    masked("RATELIMIT_IPV6_MASK = 128", &seq).await;
}

// django_ratelimit: tests.py::RatelimitTests::test_ratelimit_mask_v4
#[tokio::test]
async fn test_ratelimit_mask_v4() {
    let seq = [
        ("10.1.1.1", false),
        ("10.1.1.1", true),
        ("10.1.0.1", true),
        ("192.168.1.1", false),
    ];
    masked("RATELIMIT_IPV4_MASK = 16", &seq).await;
}

// django_ratelimit: tests.py::RatelimitTests::test_ratelimit_mask_v6
#[tokio::test]
async fn test_ratelimit_mask_v6() {
    let seq = [
        ("2001:db8::1000", false),
        ("2001:db8::1000", true),
        ("2001:db8::1001", true),
        ("2001:db9::1000", false),
    ];
    masked("RATELIMIT_IPV6_MASK = 64", &seq).await;
}

fn limiter(conf: &str) -> Ratelimiter {
    Ratelimiter::from_settings(&settings(conf)).unwrap()
}

fn request(ip: &str) -> Request {
    let mut r = http::Request::get("/").body(Body::empty()).unwrap();
    r.set_connection_info(middleware_core::ConnectionInfo {
        remote_addr: Some(SocketAddr::new(ip.parse().unwrap(), 1)),
        local_addr: None,
        scheme: "http",
    });
    r
}

fn ip_rule() -> Ratelimit {
    Ratelimit::new("ip", "1/m").group("a")
}

// django_ratelimit: tests.py::FunctionsTests::test_is_ratelimited
#[tokio::test]
async fn test_is_ratelimited() {
    let l = limiter("");
    for _ in 0..2 {
        assert!(!l
            .is_ratelimited(&mut request("127.0.0.1"), "a", &ip_rule(), false)
            .await
            .unwrap());
    }
}

// django_ratelimit: tests.py::FunctionsTests::test_is_ratelimited_increment
#[tokio::test]
async fn test_is_ratelimited_increment() {
    let l = limiter("");
    assert!(!l
        .is_ratelimited(&mut request("127.0.0.1"), "a", &ip_rule(), true)
        .await
        .unwrap());
    assert!(l
        .is_ratelimited(&mut request("127.0.0.1"), "a", &ip_rule(), true)
        .await
        .unwrap());
}

// django_ratelimit: tests.py::FunctionsTests::test_get_usage
#[tokio::test]
async fn test_get_usage() {
    let l = limiter("");
    let u = l
        .get_usage(&mut request("127.0.0.1"), "a", &ip_rule(), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((u.count, u.limit, u.should_limit), (0, 1, false));
    assert!((0..=60).contains(&u.time_left), "{u:?}");
}

// django_ratelimit: tests.py::FunctionsTests::test_get_usage_increment
#[tokio::test]
async fn test_get_usage_increment() {
    let l = limiter("");
    l.get_usage(&mut request("127.0.0.1"), "a", &ip_rule(), true)
        .await
        .unwrap();
    let u = l
        .get_usage(&mut request("127.0.0.1"), "a", &ip_rule(), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((u.count, u.limit, u.should_limit), (2, 1, true));
    assert!((0..=60).contains(&u.time_left), "{u:?}");
}

// django_ratelimit: tests.py::FunctionsTests::test_not_increment_after_increment
#[tokio::test]
async fn test_not_increment_after_increment() {
    let l = limiter("");
    for _ in 0..2 {
        l.get_usage(&mut request("127.0.0.1"), "a", &ip_rule(), true)
            .await
            .unwrap();
    }
    let u = l
        .get_usage(&mut request("127.0.0.1"), "a", &ip_rule(), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((u.count, u.limit, u.should_limit), (2, 1, true));
}

/// `RATELIMIT_ENABLE = false` turns every rule off.
#[tokio::test]
async fn disabled_by_setting() {
    let mut c = client(
        "RATELIMIT_ENABLE = false",
        vec![Ratelimit::new("ip", "0/m")],
    );
    assert_eq!(send(&mut c, "GET", "/", &[]).await.text(), "ok");
}

/// The cache key: `RATELIMIT_CACHE_PREFIX` + the hash of group, safe rate, value, window and
/// methods, with `RATELIMIT_HASH_ALGORITHM` — computed independently here.
#[test]
fn cache_key_is_the_originals() {
    use sha2::Digest as _;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let l = limiter("");
    let rate = Rate {
        count: 5,
        seconds: 60,
    };
    let expected = format!(
        "rl:{}",
        hex(&sha2::Sha256::digest(b"login/5/60s1.2.3.41700000000"))
    );
    assert_eq!(
        l.cache_key("login/", 1_700_000_000, rate, "1.2.3.4", &Methods::All),
        expected
    );
    let list = Methods::List(vec!["post".into(), "GET".into()]);
    let expected = format!("rl:{}", hex(&sha2::Sha256::digest(b"g5/60sv9GETPOST")));
    assert_eq!(l.cache_key("g", 9, rate, "v", &list), expected);
    let l = limiter("RATELIMIT_HASH_ALGORITHM = \"hashlib.md5\"\nRATELIMIT_CACHE_PREFIX = \"x:\"");
    let expected = format!("x:{}", hex(&md5::Md5::digest(b"g5/60sv9post")));
    assert_eq!(
        l.cache_key("g", 9, rate, "v", &Methods::One("post".into())),
        expected
    );
}

/// `_get_window`: the end of the jittered window, never in the past.
#[test]
fn window_end_is_jittered_and_ahead() {
    assert_eq!(window_end("x", 1, 1000), 1000);
    let mut crc = flate2::Crc::new();
    crc.update(b"1.2.3.4");
    let jitter = u64::from(crc.sum()) % 60;
    for now in [1_700_000_000u64, 1_700_000_031, 1_700_000_059] {
        let w = window_end("1.2.3.4", 60, now);
        assert!(w >= now && w < now + 60, "{now} {w}");
        assert_eq!(w % 60, jitter);
    }
}

// django_ratelimit: tests.py::IpMetaTests::test_default
#[test]
fn test_default() {
    assert_eq!(
        limiter("").client_ip(&request("1.2.3.4")).unwrap(),
        "1.2.3.4"
    );
}

// django_ratelimit: tests.py::IpMetaTests::test_bad_config (a start-up error here)
#[test]
fn test_bad_config() {
    for v in ["fake", "HTTP_", "SERVER NAME"] {
        let err =
            Ratelimiter::from_settings(&settings(&format!("RATELIMIT_IP_META_KEY = \"{v}\"")))
                .unwrap_err()
                .to_string();
        assert!(err.contains("RATELIMIT_IP_META_KEY"), "{err}");
    }
}

// django_ratelimit: tests.py::IpMetaTests::test_alternate_header
#[test]
fn test_alternate_header() {
    let l = limiter("RATELIMIT_IP_META_KEY = \"HTTP_X_CLIENT_IP\"");
    let mut r = request("1.2.3.4");
    r.headers_mut()
        .insert("x-client-ip", "5.6.7.8".parse().unwrap());
    assert_eq!(l.client_ip(&r).unwrap(), "5.6.7.8");
    // Missing: ImproperlyConfigured (500); garbage: 400.
    assert_eq!(l.client_ip(&request("1.2.3.4")).unwrap_err().status(), 500);
    r.headers_mut()
        .insert("x-client-ip", "5.6.7.8, 9.9.9.9".parse().unwrap());
    assert_eq!(l.client_ip(&r).unwrap_err().status(), 400);
}

// django_ratelimit: tests.py::IpMetaTests::test_empty_ip
#[tokio::test]
async fn test_empty_ip() {
    let mut c = Client::new(chain("", vec![("", vec![Ratelimit::new("ip", "1/m")])]));
    assert_eq!(send(&mut c, "GET", "/", &[]).await.status, 500);
}

/// Masks out of range, unknown hash algorithms, views and cache aliases are start-up errors.
#[test]
fn bad_settings_are_named() {
    for (conf, key) in [
        ("RATELIMIT_IPV4_MASK = 33", "RATELIMIT_IPV4_MASK"),
        ("RATELIMIT_IPV6_MASK = -1", "RATELIMIT_IPV6_MASK"),
        (
            "RATELIMIT_HASH_ALGORITHM = \"hashlib.crc\"",
            "RATELIMIT_HASH_ALGORITHM",
        ),
        ("RATELIMIT_VIEW = \"nope.views.x\"", "RATELIMIT_VIEW"),
        // django_ratelimit: tests.py::CacheFailTests::test_bad_cache
        (
            "RATELIMIT_USE_CACHE = \"fake-cache\"",
            "RATELIMIT_USE_CACHE",
        ),
    ] {
        let err = Chain::builder(&registry(), &settings(conf))
            .urls(Router::new())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{conf}: {err}");
    }
}

/// A Redis cache on a port nothing listens on: every operation fails fast.
const DEAD_REDIS: &str = "[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://127.0.0.1:1/0\"\nOPTIONS = { CONNECT_TIMEOUT = 0.2, COMMAND_TIMEOUT = 0.2 }\n";

// django_ratelimit: tests.py::CacheFailTests::test_limit_on_cache_connection_error
#[tokio::test]
async fn test_limit_on_cache_connection_error() {
    let mut c = client(DEAD_REDIS, vec![Ratelimit::new("ip", "10/m").block(false)]);
    assert!(limited(&mut c, "POST").await);
}

// django_ratelimit: tests.py::CacheFailTests::test_fail_open_setting
#[tokio::test]
async fn test_fail_open_setting() {
    let conf = format!("RATELIMIT_FAIL_OPEN = true\n{DEAD_REDIS}");
    let mut c = client(&conf, vec![Ratelimit::new("ip", "1/m").block(false)]);
    assert!(!limited(&mut c, "GET").await);
    assert!(!limited(&mut c, "GET").await);
}

// django_ratelimit: tests.py::CacheFailTests::test_is_ratelimited_cache_connection_error_without_increment
// and ::test_is_ratelimited_cache_connection_error_with_increment
#[tokio::test]
async fn test_is_ratelimited_cache_connection_error() {
    let l = limiter(DEAD_REDIS);
    for _ in 0..2 {
        assert!(!l
            .is_ratelimited(&mut request("127.0.0.1"), "a", &ip_rule(), false)
            .await
            .unwrap());
    }
    for _ in 0..2 {
        assert!(l
            .is_ratelimited(&mut request("127.0.0.1"), "a", &ip_rule(), true)
            .await
            .unwrap());
    }
}

/// django_ratelimit.E002 / E003, only when the middleware is in `MIDDLEWARE`.
#[test]
fn cache_checks() {
    let ids = |conf: &str| -> Vec<String> {
        registry()
            .run_checks(&settings(conf), false)
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(ids(""), vec!["django_ratelimit.E003"]);
    assert_eq!(
        ids("RATELIMIT_USE_CACHE = \"other\""),
        vec!["django_ratelimit.E002"]
    );
    assert!(ids(DEAD_REDIS).is_empty());
}

// The same throwaway redis-server as middleware-builtin's integration tests.
#[path = "../../../middleware-builtin/tests/support/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

/// Two chains ("two instances of the site") with the same Redis `CACHES`: the limit is shared.
#[tokio::test]
async fn redis_counters_are_shared_between_instances() {
    let Some(server) = RedisServer::start() else {
        eprintln!("SKIP redis_counters_are_shared_between_instances: redis-server not found (apt-get install -y redis-server)");
        return;
    };
    let port = server.port;
    let conf = format!(
        "RATELIMIT_VIEW = \"{TOO_MANY_REQUESTS_VIEW}\"\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://127.0.0.1:{port}/0\"\nKEY_PREFIX = \"site\"\n"
    );
    let rules = || vec![Ratelimit::new("ip", "3/m")];
    let mut a = client(&conf, rules());
    let mut b = client(&conf, rules());
    assert_eq!(send(&mut a, "GET", "/", &[]).await.status, 200);
    assert_eq!(send(&mut b, "GET", "/", &[]).await.status, 200);
    assert_eq!(send(&mut a, "GET", "/", &[]).await.status, 200);
    // The fourth request, on the other instance, is over the shared limit.
    assert_eq!(send(&mut b, "GET", "/", &[]).await.status, 429);
    assert_eq!(send(&mut a, "GET", "/", &[]).await.status, 429);
    // The counter is in Redis under the cache's KEY_PREFIX/VERSION, as decimal text, with a
    // TTL of the period plus EXPIRATION_FUDGE at most.
    let l = limiter(&conf);
    let u = l
        .get_usage(
            &mut request(LOCAL.split(':').next().unwrap()),
            "",
            &rules()[0],
            false,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.count, 5);
    let client = redis_client(port);
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("site:1:rl:*")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let value: String = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(value, "5");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut con)
        .await
        .unwrap();
    assert!((1..=65).contains(&ttl), "{ttl}");
}

fn redis_client(port: u16) -> redis::Client {
    redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap()
}
