//! `ModelBackend` over Django's `auth_user` and permission tables, through real chains with
//! `db` sessions, on a SQLite file and on a real PostgreSQL (each scenario once on both), each
//! named after the Django test it mirrors (tests/auth_tests/test_auth_backends.py,
//! test_middleware.py, test_decorators.py, test_models.py, test_signals.py).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::StatusCode;
use middleware_builtin::auth::hashers::Hasher;
use middleware_builtin::auth::{
    self, permission_required, session_auth_hash, ModelBackend, PermissionRequired, User,
    UserBackend, BACKEND_SESSION_KEY, HASH_SESSION_KEY, MODEL_BACKEND, SESSION_KEY,
};
use middleware_builtin::db::{databases_from_settings, migrate::migrate, Database, Param};
use middleware_builtin::sessions::SessionExt;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::Settings;
use middleware_core::{Chain, Error, Registry, Request, RequestExt, Response, Route, Router};

#[path = "support/django_python.rs"]
mod django_python;
#[cfg(feature = "postgres")]
#[path = "support/postgres_server.rs"]
mod postgres_server;
#[path = "support/temp_sqlite.rs"]
mod temp_sqlite;

#[path = "support/auth_views.rs"]
mod auth_views;
use auth_views::{login_view, logout_view, me};

const SECRET: &str = "django-insecure-test-key-0123456789";

/// One migrated database and its `[DATABASES.default]` table.
struct Target {
    db: Arc<Database>,
    db_settings: String,
    _sqlite: Option<temp_sqlite::TempDb>,
}

impl Target {
    async fn sqlite() -> Target {
        let t = temp_sqlite::TempDb::new().await;
        Target {
            db: t.db.clone(),
            db_settings: t.settings.clone(),
            _sqlite: Some(t),
        }
    }

    #[cfg(feature = "postgres")]
    async fn postgres(server: &postgres_server::PostgresServer, name: &str) -> Target {
        server.create_database(name);
        let db_settings = server.settings(name);
        let parsed = Settings::from_toml_str(&db_settings, "t.toml").unwrap();
        let db = databases_from_settings(&parsed)
            .unwrap()
            .get("default")
            .unwrap();
        migrate(&db).await.unwrap();
        Target {
            db,
            db_settings,
            _sqlite: None,
        }
    }

    fn backend(&self) -> ModelBackend {
        ModelBackend::new(self.db.clone())
    }

    /// A chain with db sessions and `AuthenticationMiddleware` on this database, MD5 first in
    /// `PASSWORD_HASHERS` (fast, as Django's test settings), PBKDF2-SHA1 second (for upgrades).
    fn client_with(&self, extra: &str) -> Client {
        let text = format!(
            "SECRET_KEY = {SECRET:?}\nALLOWED_HOSTS = [\"testserver\"]\n\
             MIDDLEWARE = [\"django.contrib.sessions.middleware.SessionMiddleware\", \
             \"django.contrib.auth.middleware.AuthenticationMiddleware\"]\n\
             SESSION_ENGINE = \"django.contrib.sessions.backends.db\"\n{extra}\n{}",
            self.db_settings
        );
        let settings = Settings::from_toml_str(&text, "test.toml").unwrap();
        let mut registry = Registry::new();
        middleware_builtin::register_all(&mut registry);
        Client::new(
            Chain::builder(&registry, &settings)
                .urls(router())
                .build()
                .unwrap(),
        )
    }

    fn client(&self) -> Client {
        self.client_with(
            "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\", \
             \"django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher\"]",
        )
    }

    /// Adds a user with an MD5 hash of `password` (full-entropy salt: no upgrade on login).
    async fn user(&self, username: &str, password: &str) -> User {
        let hash = Hasher::Md5
            .encode(password, "testsalttestsalttestsa")
            .unwrap();
        let mut u = User::new("", username, hash);
        u.email = format!("{username}@example.com");
        self.backend().insert_user(&u).await.unwrap()
    }

    async fn set(&self, sql: &str, id: &str) {
        let id: i64 = id.parse().unwrap();
        self.db.execute(sql, &[Param::Int(id)]).await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        self.db
            .fetch_optional(sql, &[])
            .await
            .unwrap()
            .unwrap()
            .i64(0)
            .unwrap()
    }

    /// Django's `Permission.objects.create(name, content_type=<auth.group>, codename)`.
    async fn permission(&self, codename: &str) -> i64 {
        self.db
            .fetch_optional(
                "INSERT INTO auth_permission (name, content_type_id, codename) \
                 SELECT $1, id, $2 FROM django_content_type WHERE app_label = 'auth' AND model = 'group' \
                 RETURNING id",
                &[Param::text(codename), Param::text(codename)],
            )
            .await
            .unwrap()
            .unwrap()
            .i64(0)
            .unwrap()
    }

    /// `user.user_permissions.add(perm)`.
    async fn grant(&self, user: &User, perm: i64) {
        self.db
            .execute(
                "INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES ($1, $2)",
                &[Param::Int(user.id.parse().unwrap()), Param::Int(perm)],
            )
            .await
            .unwrap();
    }

    /// A group holding `perm`, with `user` in it.
    async fn group_with(&self, user: &User, name: &str, perm: i64) {
        let group = self
            .db
            .fetch_optional(
                "INSERT INTO auth_group (name) VALUES ($1) RETURNING id",
                &[Param::text(name)],
            )
            .await
            .unwrap()
            .unwrap()
            .i64(0)
            .unwrap();
        self.db
            .execute(
                "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES ($1, $2)",
                &[Param::Int(group), Param::Int(perm)],
            )
            .await
            .unwrap();
        self.db
            .execute(
                "INSERT INTO auth_user_groups (user_id, group_id) VALUES ($1, $2)",
                &[Param::Int(user.id.parse().unwrap()), Param::Int(group)],
            )
            .await
            .unwrap();
    }

    async fn password_of(&self, id: &str) -> String {
        self.db
            .fetch_optional(
                "SELECT password FROM auth_user WHERE id = $1",
                &[Param::Int(id.parse().unwrap())],
            )
            .await
            .unwrap()
            .unwrap()
            .text(0)
            .unwrap()
    }
}

/// The session's auth keys, as stored.
async fn keys(req: &mut Request) -> Result<Response, Error> {
    let s = req.session()?;
    let mut out = Vec::new();
    for k in [SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY] {
        out.push(s.get(k).await.unwrap_or_default().to_string());
    }
    Ok(text(StatusCode::OK, out.join(" ")))
}

/// `/perms/?perm=..`: the permissions of `request.user`, and `has_perm(perm)`.
async fn perms(req: &mut Request) -> Result<Response, Error> {
    let perm = req.query().get("perm").unwrap_or("").to_owned();
    let all = auth::get_all_permissions(req).await?;
    let user = auth::get_user_permissions(req).await?;
    let group = auth::get_group_permissions(req).await?;
    let has = auth::has_perm(req, &perm).await?;
    let module = auth::has_module_perms(req, "auth").await?;
    let module_group = auth::has_module_perms(req, "Group").await?;
    let join =
        |s: &std::collections::BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(",");
    Ok(text(
        StatusCode::OK,
        format!(
            "all={} user={} group={} has={has} module={module} module_Group={module_group}",
            join(&all),
            join(&user),
            join(&group)
        ),
    ))
}

async fn ok(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "ok"))
}

fn router() -> Router {
    let mut r = Router::new();
    r.route("me/", me).unwrap();
    r.route("login/", login_view).unwrap();
    r.route("keys/", keys).unwrap();
    r.route("logout/", logout_view).unwrap();
    r.route("perms/", perms).unwrap();
    let two = ["auth.test", "auth.test2"];
    r.add(Route::with_view(
        "many/",
        permission_required(PermissionRequired::new(two), ok),
    ))
    .unwrap();
    r.add(Route::with_view(
        "single/",
        permission_required(PermissionRequired::new(["auth.test"]), ok),
    ))
    .unwrap();
    let three = ["auth.test", "auth.test2", "nonexistent-permission"];
    r.add(Route::with_view(
        "denied/",
        permission_required(PermissionRequired::new(three), ok),
    ))
    .unwrap();
    r.add(Route::with_view(
        "denied_raise/",
        permission_required(PermissionRequired::new(three).raise_exception(true), ok),
    ))
    .unwrap();
    r
}

async fn log_in(c: &mut Client, username: &str, password: &str) -> String {
    c.get(&format!("/login/?u={username}&p={password}"))
        .await
        .text()
}

// auth_tests.test_auth_backends.ModelBackendTest.test_authenticate_inactive, and
// ModelBackend.get_user's user_can_authenticate: a logged-in user made inactive is anonymous.
async fn test_authenticate_inactive(t: &Target) {
    let u = t.user("test", "test").await;
    let mut c = t.client();
    assert_eq!(log_in(&mut c, "test", "test").await, "user=test");
    assert_eq!(c.get("/me/").await.text(), "user=test");
    t.set(
        "UPDATE auth_user SET is_active = false WHERE id = $1",
        &u.id,
    )
    .await;
    assert_eq!(c.get("/me/").await.text(), "user=");
    let mut c = t.client();
    assert_eq!(log_in(&mut c, "test", "test").await, "bad credentials");
    // Wrong password, unknown user, another case: nobody.
    t.set("UPDATE auth_user SET is_active = true WHERE id = $1", &u.id)
        .await;
    assert_eq!(log_in(&mut c, "test", "nope").await, "bad credentials");
    assert_eq!(log_in(&mut c, "nobody", "test").await, "bad credentials");
    assert_eq!(log_in(&mut c, "TEST", "test").await, "bad credentials");
}

// The session keys Django's login() writes: the pk as a string, the backend's dotted path, and
// get_session_auth_hash() (auth_tests.test_login / test_views LoginTest's session checks).
async fn test_login_session_keys_are_djangos(t: &Target) {
    let u = t.user("test", "test").await;
    let mut c = t.client();
    log_in(&mut c, "test", "test").await;
    let expected = format!(
        "\"{}\" \"{MODEL_BACKEND}\" \"{}\"",
        u.id,
        session_auth_hash(&u.password, SECRET.as_bytes())
    );
    assert_eq!(c.get("/keys/").await.text(), expected);
}

// auth_tests.test_middleware.TestAuthenticationMiddleware.test_changed_password_invalidates_session
// and test_no_password_change_doesnt_invalidate_session: a password changed on either side
// (here straight in auth_user, as Django's set_password + save) flushes the session.
async fn test_changed_password_invalidates_session(t: &Target) {
    let u = t.user("test_user", "test_password").await;
    t.user("test_user2", "test_password2").await;
    let mut c = t.client();
    log_in(&mut c, "test_user", "test_password").await;
    assert_eq!(c.get("/me/").await.text(), "user=test_user");
    assert_eq!(c.get("/me/").await.text(), "user=test_user");
    let key = c.cookie("sessionid").unwrap().to_owned();
    let new_hash = Hasher::Md5
        .encode("new_password", "othersaltothersaltothe")
        .unwrap();
    assert!(t
        .backend()
        .set_password_hash(&u.id, &new_hash)
        .await
        .unwrap());
    let r = c.get("/me/").await;
    assert_eq!(r.text(), "user=");
    // Flushed: the row is gone and the cookie deleted.
    assert!(r.set_cookie("sessionid").unwrap().contains("Max-Age=0"));
    let rows =
        t.db.fetch_all(
            "SELECT session_key FROM django_session WHERE session_key = $1",
            &[Param::text(key)],
        )
        .await
        .unwrap();
    assert!(rows.is_empty());
}

// auth_tests.test_signals.SignalTestCase.test_update_last_login (only last_login is written),
// and test_models.AbstractUserTestCase.test_last_login_default.
async fn test_update_last_login(t: &Target) {
    let u = t.user("staff", "pw").await;
    assert!(u.last_login.is_none());
    let stored = t.backend().user_by_id(&u.id).await.unwrap().unwrap();
    assert!(stored.last_login.is_none());
    let before = SystemTime::now() - Duration::from_secs(1);
    let mut c = t.client();
    log_in(&mut c, "staff", "pw").await;
    let stored = t.backend().user_by_id(&u.id).await.unwrap().unwrap();
    assert!(stored.last_login.unwrap() > before);
    assert_eq!(stored.username, "staff");
    assert_eq!(stored.password, u.password);
}

// auth_tests.test_models.AbstractUserTestCase.test_check_password_upgrade: a correct password
// whose hasher is no longer the preferred one is re-hashed and saved on login (and the session
// stays valid: its hash is made from the new password hash). A wrong one changes nothing
// (test_hashers.TestUtilsHashPass.test_no_upgrade_on_incorrect_pass).
async fn test_check_password_upgrade(t: &Target) {
    let sha1 = Hasher::Pbkdf2Sha1 { iterations: 1000 }
        .encode("foo", "testsalttestsalttestsa")
        .unwrap();
    let u = t
        .backend()
        .insert_user(&User::new("", "user", sha1.clone()))
        .await
        .unwrap();
    let mut c = t.client();
    assert_eq!(log_in(&mut c, "user", "bar").await, "bad credentials");
    assert_eq!(t.password_of(&u.id).await, sha1);
    assert_eq!(log_in(&mut c, "user", "foo").await, "user=user");
    let upgraded = t.password_of(&u.id).await;
    assert!(upgraded.starts_with("md5$"), "the preferred hasher");
    assert_eq!(c.get("/me/").await.text(), "user=user");
    // Not upgraded again.
    let mut c = t.client();
    log_in(&mut c, "user", "foo").await;
    assert_eq!(t.password_of(&u.id).await, upgraded);
}

async fn has_test_perm(c: &mut Client) -> bool {
    c.get("/perms/?perm=auth.test")
        .await
        .text()
        .contains("has=true")
}

// auth_tests.test_auth_backends.ModelBackendTest.test_has_perm
async fn test_has_perm(t: &Target) {
    let u = t.user("test", "test").await;
    let mut c = t.client();
    log_in(&mut c, "test", "test").await;
    assert!(!has_test_perm(&mut c).await);
    t.set("UPDATE auth_user SET is_staff = true WHERE id = $1", &u.id)
        .await;
    assert!(!has_test_perm(&mut c).await);
    t.set(
        "UPDATE auth_user SET is_superuser = true WHERE id = $1",
        &u.id,
    )
    .await;
    assert!(has_test_perm(&mut c).await);
    t.set(
        "UPDATE auth_user SET is_active = false WHERE id = $1",
        &u.id,
    )
    .await;
    // Inactive: not even logged in any more (get_user); and no permission.
    assert!(!has_test_perm(&mut c).await);
}

// auth_tests.test_auth_backends.ModelBackendTest.test_custom_perms
async fn test_custom_perms(t: &Target) {
    let u = t.user("test", "test").await;
    let p = t.permission("test").await;
    t.grant(&u, p).await;
    let mut c = t.client();
    log_in(&mut c, "test", "test").await;
    assert_eq!(
        c.get("/perms/?perm=auth.test").await.text(),
        "all=auth.test user=auth.test group= has=true module=true module_Group=false"
    );
    for code in ["test2", "test3"] {
        let p = t.permission(code).await;
        t.grant(&u, p).await;
    }
    assert_eq!(
        c.get("/perms/?perm=test").await.text(),
        "all=auth.test,auth.test2,auth.test3 user=auth.test,auth.test2,auth.test3 group= has=false module=true module_Group=false"
    );
    assert_eq!(c.get("/many/").await.status, 200);
    let p = t.permission("test_group").await;
    t.group_with(&u, "test_group", p).await;
    assert_eq!(
        c.get("/perms/?perm=auth.test_group").await.text(),
        "all=auth.test,auth.test2,auth.test3,auth.test_group user=auth.test,auth.test2,auth.test3 group=auth.test_group has=true module=true module_Group=false"
    );
    // AnonymousUser
    let mut anon = t.client();
    assert_eq!(
        anon.get("/perms/?perm=auth.test").await.text(),
        "all= user= group= has=false module=false module_Group=false"
    );
}

// auth_tests.test_auth_backends.ModelBackendTest.test_get_all_superuser_permissions
async fn test_get_all_superuser_permissions(t: &Target) {
    let u = t.user("test2", "test").await;
    t.set(
        "UPDATE auth_user SET is_superuser = true WHERE id = $1",
        &u.id,
    )
    .await;
    t.permission("test").await;
    let mut c = t.client();
    log_in(&mut c, "test2", "test").await;
    let body = c.get("/perms/?perm=no.such").await.text();
    let all = body
        .strip_prefix("all=")
        .and_then(|b| b.split(' ').next())
        .unwrap();
    let n = t.count("SELECT count(*) FROM auth_permission").await;
    assert_eq!(all.split(',').count() as i64, n);
    assert!(body.contains("has=true"), "{body}");
}

// auth_tests.test_auth_backends.ModelBackendTest.test_inactive_has_no_permissions (and
// InActiveUserBackendTest): permissions held directly and through a group count for nothing
// once the user is inactive; the backend answers nothing for inactive users.
async fn test_inactive_has_no_permissions(t: &Target) {
    let u = t.user("test", "test").await;
    let p = t.permission("test").await;
    t.grant(&u, p).await;
    let g = t.permission("test_group").await;
    t.group_with(&u, "test_group", g).await;
    let b = t.backend();
    let active = b.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(b.get_user_permissions(&active).await.unwrap().len(), 1);
    assert_eq!(b.get_group_permissions(&active).await.unwrap().len(), 1);
    let mut inactive = active.clone();
    inactive.is_active = false;
    assert!(b.get_user_permissions(&inactive).await.unwrap().is_empty());
    assert!(b.get_group_permissions(&inactive).await.unwrap().is_empty());
}

// auth_tests.test_decorators.PermissionsRequiredDecoratorTest: test_many_permissions_pass,
// test_single_permission_pass, test_permissioned_denied_redirect,
// test_permissioned_denied_exception_raised; anonymous users go to the login page too.
async fn test_permission_required(t: &Target) {
    let u = t.user("joe", "qwerty").await;
    for code in ["test", "test2"] {
        let p = t.permission(code).await;
        t.grant(&u, p).await;
    }
    let mut anon = t.client();
    let r = anon.get("/single/").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/accounts/login/?next=/single/"));
    let mut c = t.client();
    log_in(&mut c, "joe", "qwerty").await;
    assert_eq!(c.get("/many/").await.status, 200);
    assert_eq!(c.get("/single/").await.status, 200);
    let r = c.get("/denied/?x=1").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("/accounts/login/?next=/denied/%3Fx%3D1")
    );
    assert_eq!(c.get("/denied_raise/").await.status, 403);
}

macro_rules! scenarios {
    ($($name:ident,)*) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Target::sqlite().await).await;
                }
            )*
        }

        // Every scenario again on one PostgreSQL cluster, a database each.
        #[cfg(feature = "postgres")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn model_backend_tests_on_postgresql() {
            let Some(server) = postgres_server::PostgresServer::start() else {
                return;
            };
            $(
                let t = Target::postgres(&server, stringify!($name)).await;
                $name(&t).await;
            )*
        }
    };
}

scenarios! {
    test_authenticate_inactive,
    test_login_session_keys_are_djangos,
    test_changed_password_invalidates_session,
    test_update_last_login,
    test_check_password_upgrade,
    test_has_perm,
    test_custom_perms,
    test_get_all_superuser_permissions,
    test_inactive_has_no_permissions,
    test_permission_required,
}

// auth_tests.test_auth_backends.ModelBackendTest.test_authentication_timing: the preferred
// hasher runs for a username that does not exist, so a failed login takes as long as one for
// a real user (Django's real PBKDF2, 1,500,000 iterations, the default PASSWORD_HASHERS).
#[tokio::test]
async fn test_authentication_timing() {
    let t = Target::sqlite().await;
    let hash = Hasher::from_dotted_path("django.contrib.auth.hashers.PBKDF2PasswordHasher")
        .unwrap()
        .encode("test", "timingsalttimingsalt12")
        .unwrap();
    t.backend()
        .insert_user(&User::new("", "test", hash))
        .await
        .unwrap();
    let mut c = t.client_with("");
    let started = Instant::now();
    assert_eq!(log_in(&mut c, "test", "test").await, "user=test");
    let known = started.elapsed();
    let started = Instant::now();
    assert_eq!(
        log_in(&mut c, "no_such_user", "test").await,
        "bad credentials"
    );
    let unknown = started.elapsed();
    assert!(
        unknown * 2 > known,
        "an unknown user took {unknown:?}, a known one {known:?}"
    );
}

// ModelBackend is what the default AUTHENTICATION_BACKENDS means once DATABASES is set, and a
// session id that is not an integer never reaches the database.
#[tokio::test]
async fn model_backend_is_the_default_with_databases() {
    let t = Target::sqlite().await;
    let u = t.user("alice", "wonderland").await;
    let b = t.backend();
    assert_eq!(b.get_user(&u.id).await.unwrap().unwrap().username, "alice");
    assert!(b.get_user("1 OR 1=1").await.unwrap().is_none());
    assert!(b.get_user("").await.unwrap().is_none());
    let mut c = t.client();
    assert_eq!(log_in(&mut c, "alice", "wonderland").await, "user=alice");
}

/// One shared database: a login on Django is that user here and back; a logout on either side
/// ends the session on both; a password change on Django (set_password + save) ends our
/// session, one made here ends Django's. The same PASSWORD_HASHERS on both sides (MD5 first).
/// Django 6.1.3 runs tests/fixtures/django/auth_share.py, started once for the scenario.
async fn share_logins_with_django(t: &Target, python: &std::path::Path, spec: &str) {
    let mut dj = django_python::DjangoProcess::start(python, "auth_share.py", &[spec, SECRET]);
    let mut django = |args: &[&str]| dj.call(args);
    let id = django(&["create-user", "alice", "wonder-pw"]);
    let mut ours = t.client();
    // Django → ours.
    let k1 = django(&["login", "alice", "wonder-pw"]);
    assert_eq!(k1.len(), 32, "{k1:?}");
    ours.set_cookie("sessionid", Some(&k1));
    assert_eq!(ours.get("/me/").await.text(), "user=alice");
    let expected = format!("\"{id}\" \"{MODEL_BACKEND}\"");
    assert!(ours.get("/keys/").await.text().starts_with(&expected));
    // Ours → Django.
    let mut ours2 = t.client();
    assert_eq!(log_in(&mut ours2, "alice", "wonder-pw").await, "user=alice");
    let k2 = ours2.cookie("sessionid").unwrap().to_owned();
    assert_eq!(django(&["whoami", &k2]), "alice");
    // Logout on Django ends ours; logout on ours ends Django's.
    django(&["logout", &k1]);
    assert_eq!(ours.get("/me/").await.text(), "user=");
    ours2.get("/logout/").await;
    assert_eq!(django(&["whoami", &k2]), "");
    // A password change on Django ends our session.
    let mut ours3 = t.client();
    assert_eq!(log_in(&mut ours3, "alice", "wonder-pw").await, "user=alice");
    let k3 = ours3.cookie("sessionid").unwrap().to_owned();
    assert_eq!(django(&["whoami", &k3]), "alice");
    django(&["set-password", "alice", "new-pw"]);
    assert_eq!(ours3.get("/me/").await.text(), "user=");
    assert_eq!(django(&["whoami", &k3]), "");
    // And one made here ends Django's.
    let k4 = django(&["login", "alice", "new-pw"]);
    assert_eq!(django(&["whoami", &k4]), "alice");
    let encoded = Hasher::Md5
        .encode("newer-pw", "newersaltnewersaltnewe")
        .unwrap();
    assert!(t.backend().set_password_hash(&id, &encoded).await.unwrap());
    assert_eq!(django(&["whoami", &k4]), "");
    assert_eq!(
        log_in(&mut t.client(), "alice", "newer-pw").await,
        "user=alice"
    );
}

// Live interop with Django 6.1.3 (scripts/django_crosscheck.sh): a shared SQLite file, and a
// shared PostgreSQL database when psycopg and PostgreSQL are installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_and_rust_share_logins() {
    let Some(python) = django_python::django_python("sqlite3") else {
        eprintln!("SKIP: no Python with Django 6.1.3 (run scripts/django_crosscheck.sh, or set DJANGO_PYTHON)");
        return;
    };
    let t = Target::sqlite().await;
    let path = t._sqlite.as_ref().unwrap().path();
    share_logins_with_django(&t, &python, &format!("sqlite:{}", path.display())).await;
    eprintln!("shared logins with Django on SQLite: ok");
    #[cfg(feature = "postgres")]
    {
        if django_python::django_python("psycopg").is_none() {
            eprintln!("SKIP: shared logins on PostgreSQL (psycopg is not installed for Django)");
            return;
        }
        let Some(server) = postgres_server::PostgresServer::start() else {
            return;
        };
        let t = Target::postgres(&server, "shared_logins").await;
        share_logins_with_django(&t, &python, &format!("pg:{}:shared_logins", server.port)).await;
        eprintln!("shared logins with Django on PostgreSQL: ok");
    }
}
