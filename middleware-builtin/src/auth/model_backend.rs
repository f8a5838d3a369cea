//! Django's `ModelBackend` over its own tables: users from `auth_user`, permissions from
//! `auth_user_user_permissions` and, through `auth_user_groups`, `auth_group_permissions`,
//! named `app_label.codename` by `auth_permission` and `django_content_type`.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use middleware_builtin::auth::{Credentials, ModelBackend, User, UserBackend};
//! use middleware_builtin::auth::hashers::make_password_with;
//! use middleware_builtin::db::{databases_from_settings, migrate::migrate};
//!
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     [DATABASES.default]
//!     ENGINE = "django.db.backends.sqlite3"
//!     NAME = ":memory:"
//! "#, "settings.toml").unwrap();
//! let db = databases_from_settings(&settings).unwrap().get("default").unwrap();
//! migrate(&db).await.unwrap();
//! let users = ModelBackend::new(db);
//! let hash = make_password_with("wonderland", "somesalt", 1000).unwrap();
//! let alice = users.insert_user(&User::new("", "alice", hash)).await.unwrap();
//! let found = users.authenticate(&Credentials::new("alice", "wonderland")).await.unwrap();
//! assert_eq!(found.unwrap().id, alice.id);
//! # });
//! ```
//!
//! It is what `AUTHENTICATION_BACKENDS` = `["django.contrib.auth.backends.ModelBackend"]` (the
//! default) names when `DATABASES` has a `default` database and no other backend was
//! registered under that name (see [`super::AuthBackends`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use super::backends::{BackendError, Credentials, UserBackend};
use super::user::User;
use crate::db::{Database, DbError, Param, Row};

/// The columns of `auth_user` a [`User`] is read from, in [`user_from_row`]'s order.
const USER_COLUMNS: &str = "id, password, last_login, is_superuser, username, first_name, \
                            last_name, email, is_staff, is_active, date_joined";

/// Django's `django.contrib.auth.backends.ModelBackend` on a database migrated as Django's
/// migrations leave it (`example-site migrate`, or Django's own `migrate`).
///
/// As Django's: a username is matched exactly; a login attempt for a username that does not
/// exist still hashes the password once with the preferred hasher, so timing does not tell
/// which usernames exist; inactive users cannot log in (`user_can_authenticate`) and a logged-in
/// user made inactive is anonymous from the next request on; a correct password whose hash is
/// out of date (another hasher or other parameters than the first of `PASSWORD_HASHERS`) is
/// hashed again and written back to `auth_user.password`; [`super::login`] writes
/// `last_login`. Superusers hold every permission of `auth_permission`; inactive users none.
#[derive(Clone, Debug)]
pub struct ModelBackend {
    db: Arc<Database>,
}

fn store(e: DbError) -> BackendError {
    BackendError::Store(Box::new(e))
}

fn user_from_row(row: &Row) -> Result<User, DbError> {
    let mut user = User::new(row.i64(0)?.to_string(), row.text(4)?, row.text(1)?);
    user.last_login = row.opt_timestamp(2)?;
    user.is_superuser = row.bool(3)?;
    user.first_name = row.text(5)?;
    user.last_name = row.text(6)?;
    user.email = row.text(7)?;
    user.is_staff = row.bool(8)?;
    user.is_active = row.bool(9)?;
    user.date_joined = row.opt_timestamp(10)?;
    Ok(user)
}

/// A session's user id as `auth_user.id`: anything that is not an integer names nobody (it
/// never reaches the database).
fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

impl ModelBackend {
    /// Users and permissions from `db`.
    pub fn new(db: Arc<Database>) -> Self {
        ModelBackend { db }
    }

    /// The database the users live in.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// The user called `username` (exact match, Django's `get_by_natural_key`), active or not.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM auth_user WHERE username = $1");
        self.db
            .fetch_optional(&sql, &[Param::text(username)])
            .await?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    /// The user whose primary key is `id`, active or not.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, DbError> {
        let Some(id) = parse_id(id) else {
            return Ok(None);
        };
        let sql = format!("SELECT {USER_COLUMNS} FROM auth_user WHERE id = $1");
        self.db
            .fetch_optional(&sql, &[Param::Int(id)])
            .await?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    /// Adds `user` as a new `auth_user` row (its `id` is ignored: the database picks the next
    /// one; `date_joined` defaults to now) and returns it as stored. A username already taken
    /// is a [`DbError`] for which [`DbError::is_unique_violation`] holds.
    pub async fn insert_user(&self, user: &User) -> Result<User, DbError> {
        let date_joined = user.date_joined.unwrap_or_else(SystemTime::now);
        let last_login = user.last_login.map_or(Param::Null, Param::Timestamp);
        let row = self
            .db
            .fetch_optional(
                "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, \
                 last_name, email, is_staff, is_active, date_joined) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    Param::text(&user.password),
                    last_login,
                    Param::Bool(user.is_superuser),
                    Param::text(&user.username),
                    Param::text(&user.first_name),
                    Param::text(&user.last_name),
                    Param::text(&user.email),
                    Param::Bool(user.is_staff),
                    Param::Bool(user.is_active),
                    Param::Timestamp(date_joined),
                ],
            )
            .await?;
        let id = match row {
            Some(row) => row.i64(0)?,
            None => {
                return Err(DbError::Decode {
                    column: 0,
                    reason: "INSERT ... RETURNING id returned no row".to_owned(),
                })
            }
        };
        let mut stored = user.clone();
        stored.id = id.to_string();
        stored.date_joined = Some(date_joined);
        stored.backend = None;
        Ok(stored)
    }

    /// Stores `encoded` (an already hashed password, e.g. from
    /// [`super::hashers::PasswordHashing::make_password`]) as the password of the user `id`
    /// (Django's `set_password` + `save`): every session of that user, here and on a Django
    /// sharing the database, is logged out by its next request. Whether there was such a user.
    pub async fn set_password_hash(&self, id: &str, encoded: &str) -> Result<bool, DbError> {
        let Some(id) = parse_id(id) else {
            return Ok(false);
        };
        let changed = self
            .db
            .execute(
                "UPDATE auth_user SET password = $1 WHERE id = $2",
                &[Param::text(encoded), Param::Int(id)],
            )
            .await?;
        Ok(changed > 0)
    }

    /// `"app_label.codename"` of the rows `sql` selects (`app_label`, `codename` columns).
    async fn permission_names(
        &self,
        sql: &str,
        params: &[Param],
    ) -> Result<BTreeSet<String>, DbError> {
        let rows = self.db.fetch_all(sql, params).await?;
        rows.iter()
            .map(|row| Ok(format!("{}.{}", row.text(0)?, row.text(1)?)))
            .collect()
    }

    /// Django's `_get_permissions(user, obj=None, from_name)`: nothing for inactive users,
    /// every permission for superusers, else the rows `join` reaches from the user.
    async fn permissions(&self, user: &User, join: &str) -> Result<BTreeSet<String>, DbError> {
        if !user.is_active {
            return Ok(BTreeSet::new());
        }
        const SELECT: &str = "SELECT ct.app_label, p.codename FROM auth_permission p \
                              INNER JOIN django_content_type ct ON ct.id = p.content_type_id";
        if user.is_superuser {
            return self.permission_names(SELECT, &[]).await;
        }
        let Some(id) = parse_id(&user.id) else {
            return Ok(BTreeSet::new());
        };
        self.permission_names(&format!("{SELECT} {join}"), &[Param::Int(id)])
            .await
    }
}

#[async_trait]
impl UserBackend for ModelBackend {
    async fn get_user(&self, id: &str) -> Result<Option<User>, BackendError> {
        let user = self.user_by_id(id).await.map_err(store)?;
        Ok(user.filter(|u| u.is_active))
    }

    async fn authenticate(&self, credentials: &Credentials) -> Result<Option<User>, BackendError> {
        let user = self
            .user_by_username(&credentials.username)
            .await
            .map_err(store)?;
        let verified = credentials
            .verify_password(user.as_ref().map(|u| u.password.as_str()))
            .await?;
        let Some(mut user) = user.filter(|_| verified.is_correct) else {
            return Ok(None);
        };
        if verified.must_update {
            // Django's check_password setter: a correct password is re-hashed with the
            // preferred hasher and saved (before, and whatever, user_can_authenticate says).
            // Only over the hash just checked: a password changed meanwhile (by Django, say)
            // is not overwritten with the old one.
            let encoded = credentials.make_password().await?;
            let id = parse_id(&user.id).unwrap_or_default();
            let changed = self
                .db
                .execute(
                    "UPDATE auth_user SET password = $1 WHERE id = $2 AND password = $3",
                    &[
                        Param::text(&encoded),
                        Param::Int(id),
                        Param::text(&user.password),
                    ],
                )
                .await
                .map_err(store)?;
            if changed > 0 {
                user.password = encoded;
            }
        }
        Ok(Some(user).filter(|u| u.is_active))
    }

    async fn get_user_permissions(&self, user: &User) -> Result<BTreeSet<String>, BackendError> {
        self.permissions(
            user,
            "INNER JOIN auth_user_user_permissions up ON up.permission_id = p.id \
             WHERE up.user_id = $1",
        )
        .await
        .map_err(store)
    }

    async fn get_group_permissions(&self, user: &User) -> Result<BTreeSet<String>, BackendError> {
        self.permissions(
            user,
            "INNER JOIN auth_group_permissions gp ON gp.permission_id = p.id \
             INNER JOIN auth_user_groups ug ON ug.group_id = gp.group_id \
             WHERE ug.user_id = $1",
        )
        .await
        .map_err(store)
    }

    async fn user_logged_in(&self, user: &User) -> Result<(), BackendError> {
        // Django's update_last_login receiver.
        let Some(id) = parse_id(&user.id) else {
            return Ok(());
        };
        self.db
            .execute(
                "UPDATE auth_user SET last_login = $1 WHERE id = $2",
                &[Param::Timestamp(SystemTime::now()), Param::Int(id)],
            )
            .await
            .map_err(store)?;
        Ok(())
    }
}
