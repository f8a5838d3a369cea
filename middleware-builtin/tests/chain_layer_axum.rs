//! `ChainLayer` around an axum `Router` (issue 16): CSRF is enforced in front of the axum
//! handlers, route markers reach `process_view`, and the handlers read the session, the user
//! and the client address with axum's own extractors.
//!
//! Mirrors Django's `csrf_tests.tests.CsrfViewMiddlewareTestMixin.test_process_request_no_csrf_cookie`
//! (a POST without a cookie or token gets 403) and `test_csrf_exempt` semantics for a marked
//! route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use axum::Extension;
use http::{HeaderValue, StatusCode};
use http_body_util::BodyExt;
use middleware_builtin::auth::{self, CurrentUser, InMemoryUserBackend, User};
use middleware_builtin::csrf::CsrfExempt;
use middleware_builtin::sessions::Session;
use middleware_core::chain_layer::{ChainLayer, ServiceRoutes};
use middleware_core::{Chain, Error, Next, Registry, Request, RequestExt, Response, Settings};
use tower::ServiceExt;

#[path = "support/login_registry.rs"]
mod login_registry;
use login_registry::registry_with_login;

const SETTINGS: &str = r#"
SECRET_KEY = "chain-layer-axum-secret-key-0123456789-abcdefghijklmn"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "TestLogin",
    "UserExtension",
    "EchoClientAddr",
]
"#;

fn registry(users: &InMemoryUserBackend) -> Registry {
    // `/login` logs alice in from a middleware; `/axum-login` below does it in an axum handler.
    let mut registry = registry_with_login(users, "/login");
    // Django's lazy `request.user`, loaded for handlers that read extensions.
    registry.register_fn(
        "UserExtension",
        |mut request: Request, next: Next| async move {
            let user = auth::get_user(&mut request).await?;
            request.extensions_mut().insert(user);
            Ok::<Response, Error>(next.run(request).await)
        },
    );
    // What the chain itself sees as REMOTE_ADDR.
    registry.register_fn(
        "EchoClientAddr",
        |request: Request, next: Next| async move {
            let seen = request
                .connection_info()
                .and_then(|c| c.remote_addr)
                .map_or("none".to_owned(), |a| a.to_string());
            let mut response = next.run(request).await;
            if let Ok(value) = HeaderValue::from_str(&seen) {
                response.headers_mut().insert("x-chain-remote-addr", value);
            }
            response
        },
    );
    registry
}

fn layer(users: &InMemoryUserBackend) -> ChainLayer {
    let registry = registry(users);
    let settings = Settings::from_toml_str(SETTINGS, "settings.toml").unwrap();
    let routes = ServiceRoutes::new().marker("/webhook/{source}", CsrfExempt);
    ChainLayer::with_routes(Chain::builder(&registry, &settings), routes)
        .unwrap()
        .client_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))
}

fn request(method: &str, path: &str, cookie: Option<&str>) -> http::Request<axum::body::Body> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "testserver")
        .extension(ConnectInfo(SocketAddr::from(([203, 0, 113, 7], 4711))));
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    builder.body(axum::body::Body::empty()).unwrap()
}

async fn text<B: http_body::Body>(response: http::Response<B>) -> String
where
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `request(..)` sent to (a clone of) `service`.
async fn send<S, B>(
    service: &S,
    method: &str,
    path: &str,
    cookie: Option<&str>,
) -> http::Response<B>
where
    S: tower::Service<http::Request<axum::body::Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    service
        .clone()
        .oneshot(request(method, path, cookie))
        .await
        .unwrap()
}

fn app() -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/form", post(|| async { "posted" }))
        .route("/webhook/{source}", post(|| async { "hook" }))
}

#[tokio::test]
async fn post_without_token_is_refused_with_chain_layer_around_an_axum_router() {
    let users = InMemoryUserBackend::new();
    // `Router::layer`: the chain runs after axum's routing, around each route.
    let app = app().layer(layer(&users));
    let get = send(&app, "GET", "/", None).await;
    assert_eq!(get.status(), StatusCode::OK);
    let post = send(&app, "POST", "/form", None).await;
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    // The route's marker reaches process_view: CsrfExempt lets the POST through.
    let hook = send(&app, "POST", "/webhook/github", None).await;
    assert_eq!(hook.status(), StatusCode::OK);
}

#[tokio::test]
async fn post_without_token_is_refused_with_chain_layer_wrapping_the_whole_router() {
    use tower::Layer;
    let users = InMemoryUserBackend::new();
    let service = layer(&users).layer(app());
    let post = send(&service, "POST", "/form", None).await;
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    let hook = send(&service, "POST", "/webhook/github", None).await;
    assert_eq!(hook.status(), StatusCode::OK);
}

async fn me(
    Extension(session): Extension<Session>,
    Extension(user): Extension<CurrentUser>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
) -> String {
    let visits = session
        .get("visits")
        .await
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        + 1;
    session.set("visits", visits).await;
    format!("user={} addr={addr} visits={visits}", user.username())
}

#[tokio::test]
async fn axum_handlers_read_session_user_and_client_address_through_extractors() {
    let users = InMemoryUserBackend::new();
    users.insert(User::new(
        "1",
        "alice",
        "pbkdf2_sha256$1$salt$not-checked-here",
    ));
    let app = axum::Router::new()
        .route("/me", get(me))
        .route("/login", get(|| async { "logged in" }))
        .layer(layer(&users));

    let anonymous = send(&app, "GET", "/me", None).await;
    assert_eq!(
        anonymous.headers()["x-chain-remote-addr"],
        "203.0.113.7:4711"
    );
    assert_eq!(
        text(anonymous).await,
        "user= addr=203.0.113.7:4711 visits=1"
    );

    let login = send(&app, "GET", "/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = session_cookie(&login);

    // The handler's write to the session is saved by SessionMiddleware's response phase.
    let first = send(&app, "GET", "/me", Some(&cookie)).await;
    let cookie = session_cookie(&first);
    assert_eq!(
        text(first).await,
        "user=alice addr=203.0.113.7:4711 visits=1"
    );
    let second = send(&app, "GET", "/me", Some(&cookie)).await;
    assert_eq!(
        text(second).await,
        "user=alice addr=203.0.113.7:4711 visits=2"
    );
}

fn session_cookie<B>(response: &http::Response<B>) -> String {
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sessionid="))
        .expect("a session cookie");
    header.split(';').next().unwrap().to_owned()
}

/// The same, through the request extension traits on axum's own request type: `session()`,
/// `user()`, `client_addr()`, and `auth::login` called from an axum handler.
async fn me_by_ext(mut request: axum::extract::Request) -> Result<String, StatusCode> {
    use middleware_builtin::auth::UserExt;
    use middleware_builtin::sessions::SessionExt;
    let session = request
        .session()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let user = request
        .user()
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let addr = request
        .client_addr()
        .map_or("none".to_owned(), |a| a.to_string());
    let visits = session
        .get("visits")
        .await
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        + 1;
    session.set("visits", visits).await;
    Ok(format!(
        "user={} addr={addr} host={} visits={visits}",
        user.username(),
        request.get_host().unwrap_or_default()
    ))
}

#[tokio::test]
async fn axum_handlers_read_session_user_and_client_address_through_request_ext_traits() {
    let users = InMemoryUserBackend::new();
    users.insert(User::new(
        "1",
        "alice",
        "pbkdf2_sha256$1$salt$not-checked-here",
    ));
    let backend = users.clone();
    let app = axum::Router::new()
        .route("/me", get(me_by_ext))
        .route(
            "/axum-login",
            get(move |mut request: axum::extract::Request| {
                let users = backend.clone();
                async move {
                    let alice = users.user("1").expect("alice");
                    match auth::login(&mut request, &alice, Some(auth::MODEL_BACKEND)).await {
                        Ok(()) => StatusCode::OK,
                        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    }
                }
            }),
        )
        .layer(layer(&users));

    let anonymous = send(&app, "GET", "/me", None).await;
    assert_eq!(
        text(anonymous).await,
        "user= addr=203.0.113.7:4711 host=testserver visits=1"
    );
    let login = send(&app, "GET", "/axum-login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    // The login in the axum handler cycled the session: SessionMiddleware sends its new key.
    let cookie = session_cookie(&login);
    let first = send(&app, "GET", "/me", Some(&cookie)).await;
    assert_eq!(
        text(first).await,
        "user=alice addr=203.0.113.7:4711 host=testserver visits=1"
    );
}
