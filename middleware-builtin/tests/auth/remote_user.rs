//! `RemoteUserMiddleware` and `PersistentRemoteUserMiddleware`: Django's `test_remote_user.py`.

use super::*;

fn remote_backends(create_unknown_user: bool) -> (InMemoryUserBackend, AuthBackends) {
    let users = users().remote_users(create_unknown_user);
    let table = AuthBackends::new();
    table.insert(REMOTE_USER_BACKEND, users.clone());
    (users, table)
}

fn remote_client(table: AuthBackends, middleware: &str) -> Client {
    client_with(
        table,
        &[SESSION, AUTH, middleware],
        &format!("AUTHENTICATION_BACKENDS = [{REMOTE_USER_BACKEND:?}]"),
    )
}

async fn get_as(c: &mut Client, path: &str, header: &str, user: &str) -> TestResponse {
    c.request(Method::GET, path, &[(header, user)], Body::empty())
        .await
}

// Django: tests/auth_tests/test_remote_user.py::RemoteUserTest::test_no_remote_user
#[tokio::test]
async fn remote_no_remote_user() {
    let (users, table) = remote_backends(true);
    let mut c = remote_client(table, REMOTE);
    assert_eq!(c.get("/me/").await.text(), "user=");
    // An empty header authenticates nobody (RemoteUserBackend returns None).
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "").await.text(),
        "user="
    );
    assert_eq!(users.len(), 4);
}

// Django: RemoteUserTest::test_unknown_user
#[tokio::test]
async fn remote_unknown_user() {
    let (users, table) = remote_backends(true);
    let mut c = remote_client(table, REMOTE);
    let r = get_as(&mut c, "/me/", "remote-user", "newuser").await;
    assert_eq!(r.text(), "user=newuser");
    assert_eq!(users.len(), 5);
    // Another request with the same header: the same user, not created again.
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "newuser")
            .await
            .text(),
        "user=newuser"
    );
    assert_eq!(users.len(), 5);
}

// Django: RemoteUserNoCreateTest::test_unknown_user
#[tokio::test]
async fn remote_no_create_unknown_user() {
    let (users, table) = remote_backends(false);
    let mut c = remote_client(table, REMOTE);
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "newuser")
            .await
            .text(),
        "user="
    );
    assert_eq!(users.len(), 4);
}

// Django: RemoteUserTest::test_known_user
#[tokio::test]
async fn remote_known_user() {
    let (_, table) = remote_backends(true);
    let mut c = remote_client(table, REMOTE);
    let r = get_as(&mut c, "/me/", "remote-user", "knownuser").await;
    assert_eq!(r.text(), "user=knownuser");
    let key = c.cookie("sessionid").unwrap().to_owned();
    let r = get_as(&mut c, "/me/", "remote-user", "knownuser").await;
    assert_eq!(r.text(), "user=knownuser");
    // Already logged in: no new login, the session is unchanged.
    assert!(r.set_cookie("sessionid").is_none());
    assert_eq!(c.cookie("sessionid"), Some(key.as_str()));
}

// Django: RemoteUserTest::test_header_disappears
#[tokio::test]
async fn remote_header_disappears() {
    // Both a remote-user backend and a password backend.
    let (users, table) = remote_backends(true);
    let plain = InMemoryUserBackend::new();
    plain.insert(User::new("1", "alice", hashed("wonderland")));
    table.insert("plain.Model", plain);
    let mut c = client_with(
        table,
        &[SESSION, AUTH, REMOTE],
        &format!("AUTHENTICATION_BACKENDS = [{REMOTE_USER_BACKEND:?}, \"plain.Model\"]"),
    );
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "knownuser")
            .await
            .text(),
        "user=knownuser"
    );
    // The header went away: the remote user is logged out.
    assert_eq!(c.get("/me/").await.text(), "user=");
    // A user logged in through a non-remote backend is not logged out.
    login(&mut c, "alice", "wonderland").await;
    assert_eq!(
        session_of(&c).get(BACKEND_SESSION_KEY),
        Some(&json!("plain.Model"))
    );
    assert_eq!(c.get("/me/").await.text(), "user=alice");
    assert_eq!(users.len(), 4);
}

// Django: RemoteUserTest::test_user_switch_forces_new_login
#[tokio::test]
async fn remote_user_switch_forces_new_login() {
    let (_, table) = remote_backends(true);
    let mut c = remote_client(table, REMOTE);
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "knownuser")
            .await
            .text(),
        "user=knownuser"
    );
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "newuser")
            .await
            .text(),
        "user=newuser"
    );
}

// Django: RemoteUserTest::test_inactive_user
#[tokio::test]
async fn remote_inactive_user() {
    let (_, table) = remote_backends(true);
    let mut c = remote_client(table, REMOTE);
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "carol").await.text(),
        "user="
    );
}

// Django: PersistentRemoteUserTest::test_header_disappears
#[tokio::test]
async fn persistent_remote_user_header_disappears() {
    let (_, table) = remote_backends(true);
    let mut c = remote_client(table, PERSISTENT);
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "knownuser")
            .await
            .text(),
        "user=knownuser"
    );
    assert_eq!(c.get("/me/").await.text(), "user=knownuser");
}

// Django: CustomHeaderRemoteUserTest (header = "HTTP_AUTHUSER")
#[tokio::test]
async fn remote_custom_header() {
    let (_, table) = remote_backends(true);
    let mut registry = registry_with(table);
    registry
        .register("CustomHeaderMiddleware", |next, ctx| {
            RemoteUserMiddleware::new(
                next,
                ctx,
                RemoteUserOptions::default()
                    .header("HTTP_AUTHUSER")
                    .unwrap(),
            )
        })
        .requires_before("AuthenticationMiddleware");
    let chain = Chain::builder(
        &registry,
        &settings(
            &[SESSION, AUTH, "CustomHeaderMiddleware"],
            &format!("AUTHENTICATION_BACKENDS = [{REMOTE_USER_BACKEND:?}]"),
        ),
    )
    .urls(router())
    .build()
    .unwrap();
    let mut c = Client::new(chain);
    assert_eq!(
        get_as(&mut c, "/me/", "remote-user", "knownuser")
            .await
            .text(),
        "user="
    );
    assert_eq!(
        get_as(&mut c, "/me/", "authuser", "knownuser").await.text(),
        "user=knownuser"
    );
}

// Django: RemoteUserImproperlyConfigured::test_improperly_configured_message_remote_user
#[tokio::test]
async fn remote_user_needs_authentication_middleware() {
    let (_, table) = remote_backends(true);
    for mw in [REMOTE, PERSISTENT] {
        let err = Chain::builder(&registry_with(table.clone()), &settings(&[SESSION, mw], ""))
            .urls(router())
            .build()
            .err()
            .unwrap_or_else(|| panic!("must not build"));
        assert!(
            err.to_string().contains("AuthenticationMiddleware"),
            "{err}"
        );
    }
    // Registered without the order requirement: the request-time ImproperlyConfigured.
    let mut registry = Registry::new();
    registry.register("BareRemote", |next, ctx| {
        RemoteUserMiddleware::new(next, ctx, RemoteUserOptions::default())
    });
    assert_eq!(
        bare_status(&registry, "BareRemote").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

// Django: test_remote_user.py::RemoteUserTest::test_csrf_validation_passes_after_process_request_login
// — login() rotates the CSRF token before CsrfViewMiddleware.process_view runs; the check must
// still use the token the client sent in its cookie.
#[tokio::test]
async fn remote_csrf_validation_passes_after_process_request_login() {
    let (_, table) = remote_backends(true);
    let chain = Chain::builder(
        &registry_with(table),
        &settings(
            &[SESSION, CSRF, AUTH, REMOTE],
            &format!("AUTHENTICATION_BACKENDS = [{REMOTE_USER_BACKEND:?}]"),
        ),
    )
    .urls(router())
    .build()
    .unwrap();
    let mut c = Client::new(chain).enforce_csrf_checks(true);
    let secret = "lcccccccX2kcccccccY2jcccccccssIC";
    let cookie_token = middleware_builtin::csrf::mask_cipher_secret(secret).unwrap();
    let form_token = middleware_builtin::csrf::mask_cipher_secret(secret).unwrap();
    let headers = [
        ("remote-user", "fakeuser"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    c.set_cookie("csrftoken", Some(&cookie_token));
    let r = c
        .request(Method::POST, "/me/", &headers, Body::from(String::new()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    c.set_cookie("csrftoken", Some(&cookie_token));
    let body = format!("csrfmiddlewaretoken={form_token}");
    let r = c
        .request(Method::POST, "/me/", &headers, Body::from(body))
        .await;
    assert_eq!(
        (r.status, r.text()),
        (StatusCode::OK, "user=fakeuser".to_owned())
    );
}
