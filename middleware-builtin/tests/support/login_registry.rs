//! Every built-in with `users` as the ModelBackend, and a `TestLogin` middleware that logs user
//! "1" in (Django's `force_login`) when the request's path is `login_path`, then goes on down
//! the chain.

use middleware_builtin::auth::{self, AuthBackends, InMemoryUserBackend};
use middleware_builtin::BuiltinOptions;
use middleware_core::{Error, Next, Registry, Request, Response};

pub fn registry_with_login(users: &InMemoryUserBackend, login_path: &'static str) -> Registry {
    let backends = AuthBackends::new();
    backends.insert(auth::MODEL_BACKEND, users.clone());
    let mut registry = Registry::new();
    middleware_builtin::register_all_with(
        &mut registry,
        BuiltinOptions::default().auth_backends(backends),
    );
    let users = users.clone();
    registry.register_fn("TestLogin", move |mut request: Request, next: Next| {
        let users = users.clone();
        async move {
            if request.uri().path() == login_path {
                let user = users.user("1").expect("the test's user 1");
                auth::login(&mut request, &user, Some(auth::MODEL_BACKEND)).await?;
            }
            Ok::<Response, Error>(next.run(request).await)
        }
    });
    registry
}
