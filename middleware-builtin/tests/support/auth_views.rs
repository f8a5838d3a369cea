//! The views the auth tests drive (tests/auth.rs, tests/model_backend.rs): who is logged in,
//! log in from the query string, log out.
#![allow(dead_code)]

use http::StatusCode;
use middleware_builtin::auth::{self, Credentials};
use middleware_core::response::text;
use middleware_core::{Error, Request, RequestExt, Response};

/// `request.user`'s username, as `user=NAME` (`user=` for the anonymous user).
pub async fn me(req: &mut Request) -> Result<Response, Error> {
    let user = auth::get_user(req).await?;
    Ok(text(StatusCode::OK, format!("user={}", user.username())))
}

/// `/login/?u=..&p=..`: authenticate + login, then report `request.user` (`bad credentials`
/// when refused).
pub async fn login_view(req: &mut Request) -> Result<Response, Error> {
    let q = req.query();
    let creds = Credentials::new(q.get("u").unwrap_or(""), q.get("p").unwrap_or(""));
    match auth::authenticate(req, &creds).await? {
        Some(user) => auth::login(req, &user, None).await?,
        None => return Ok(text(StatusCode::OK, "bad credentials")),
    }
    me(req).await
}

/// `logout()`, then report `request.user`.
pub async fn logout_view(req: &mut Request) -> Result<Response, Error> {
    auth::logout(req).await?;
    me(req).await
}
