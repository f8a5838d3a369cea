//! `example-site createsuperuser` and `changepassword`: Django's management commands of the
//! same names, on `auth_user` of a `DATABASES` alias, with Django's prompts, messages and
//! `--noinput` environment variables. Passwords typed in are checked by
//! `AUTH_PASSWORD_VALIDATORS` as Django's commands check them, hashed with the first
//! `PASSWORD_HASHERS` entry, and never echoed or logged.

use std::io::{BufRead, IsTerminal, Write};

use middleware_builtin::auth::hashers::{make_unusable_password, PasswordHashers};
use middleware_builtin::auth::password_validation::PasswordValidators;
use middleware_builtin::auth::{ModelBackend, User};
use middleware_builtin::db::databases_from_settings;
use middleware_core::Settings;

/// A command's failure: Django's `CommandError`, printed as `CommandError: {0}` (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

fn err(message: impl Into<String>) -> CommandError {
    CommandError(message.into())
}

/// Where a command talks: the terminal for people, pipes for tests.
pub trait Console {
    /// Whether input comes from a terminal (Django's `stdin.isatty()`).
    fn is_tty(&self) -> bool;
    /// Django's `input(prompt)`: a line, without its end; `None` at end of input.
    fn input(&mut self, prompt: &str) -> Option<String>;
    /// Django's `getpass.getpass(prompt)`: a line, not echoed on a terminal.
    fn password(&mut self, prompt: &str) -> Option<String>;
    /// A line on standard output.
    fn out(&mut self, line: &str);
    /// A line on standard error.
    fn err(&mut self, line: &str);
}

/// The process's own standard streams (and `/dev/tty` for passwords, echo off, as `getpass`).
#[derive(Debug, Default)]
pub struct StdConsole;

fn read_line(input: &mut dyn BufRead) -> Option<String> {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

impl Console for StdConsole {
    fn is_tty(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn input(&mut self, prompt: &str) -> Option<String> {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        read_line(&mut std::io::stdin().lock())
    }

    fn password(&mut self, prompt: &str) -> Option<String> {
        // On a terminal: the controlling terminal with echo off. Piped input (a script, a
        // test) is read as getpass's fallback reads it, the prompt on stderr. Unlike getpass,
        // piped input wins over a terminal the process also has.
        if self.is_tty() {
            if let Some(result) = crate::tty::read_hidden(prompt) {
                return result;
            }
        }
        eprint!("{prompt}");
        read_line(&mut std::io::stdin().lock())
    }

    fn out(&mut self, line: &str) {
        println!("{line}");
    }

    fn err(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// Options of `createsuperuser` (Django's).
#[derive(Clone, Debug, Default)]
pub struct CreateSuperuser {
    /// `--username`.
    pub username: Option<String>,
    /// `--email`.
    pub email: Option<String>,
    /// `--noinput` / `--no-input`: take everything from the options and `DJANGO_SUPERUSER_*`.
    pub no_input: bool,
    /// `--database` (default `default`).
    pub database: String,
}

/// Django's `UnicodeUsernameValidator` and the field's `max_length = 150`.
fn username_error(username: &str) -> Option<String> {
    let count = username.chars().count();
    if count > 150 {
        return Some(format!(
            "Ensure this value has at most 150 characters (it has {count})."
        ));
    }
    let valid = username
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || matches!(c, '.' | '@' | '+' | '-'));
    (!valid).then(|| {
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
            .to_owned()
    })
}

/// Django's `EmailField.clean` (blank allowed), simplified: one `@`, a local part without
/// spaces, a domain of dot-separated labels (or a bracketed literal).
fn clean_email(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let invalid = || "Enter a valid email address.".to_owned();
    let (user, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = (domain.starts_with('[') && domain.ends_with(']'))
        || domain == "localhost"
        || (domain.contains('.') && domain.split('.').all(label_ok));
    if user.is_empty() || user.chars().any(char::is_whitespace) || !domain_ok {
        return Err(invalid());
    }
    // BaseUserManager.normalize_email: the domain part lower-cased.
    Ok(format!("{user}@{}", domain.to_lowercase()))
}

/// Django's `get_default_username()`: the system user's name, ASCII, lower-case, when it is
/// a valid username not taken yet; else empty.
async fn default_username(users: &ModelBackend) -> String {
    let system = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let name: String = system
        .chars()
        .filter(|c| c.is_ascii() && *c != ' ')
        .collect::<String>()
        .to_lowercase();
    if name.is_empty() || username_error(&name).is_some() {
        return String::new();
    }
    match users.user_by_username(&name).await {
        Ok(None) => name,
        _ => String::new(),
    }
}

/// Django's `_validate_username`.
async fn validate_username(
    users: &ModelBackend,
    username: &str,
) -> Result<Option<String>, CommandError> {
    if users
        .user_by_username(username)
        .await
        .map_err(|e| err(e.to_string()))?
        .is_some()
    {
        return Ok(Some("Error: That username is already taken.".to_owned()));
    }
    if username.is_empty() {
        return Ok(Some("Username cannot be blank.".to_owned()));
    }
    Ok(username_error(username))
}

/// What the commands work with: the users of a database, the hashers and the validators.
struct Users {
    backend: ModelBackend,
    hashers: PasswordHashers,
    validators: PasswordValidators,
}

fn users_for(settings: &Settings, alias: &str) -> Result<Users, CommandError> {
    let databases = databases_from_settings(settings).map_err(|e| err(e.to_string()))?;
    let db = databases.get(alias).ok_or_else(|| {
        err(format!(
            "The connection '{alias}' doesn't exist. (DATABASES in {} has no such alias.)",
            settings.source()
        ))
    })?;
    let hashers = PasswordHashers::from_settings(settings).map_err(|e| err(e.to_string()))?;
    let validators = PasswordValidators::from_settings(settings).map_err(|e| err(e.to_string()))?;
    Ok(Users {
        backend: ModelBackend::new(db),
        hashers,
        validators,
    })
}

fn cancelled() -> CommandError {
    err("\nOperation cancelled.")
}

/// Django's `createsuperuser`.
pub async fn createsuperuser(
    settings: &Settings,
    options: &CreateSuperuser,
    env: &dyn Fn(&str) -> Option<String>,
    console: &mut dyn Console,
) -> Result<(), CommandError> {
    let Users {
        backend: users,
        hashers,
        validators,
    } = users_for(settings, &options.database)?;
    let mut username = options.username.clone();
    let email;
    // Unusable unless one is given (Django: user_data["password"] = None).
    let mut password: Option<String> = None;
    if !options.no_input {
        if !console.is_tty() {
            console.out(
                "Superuser creation skipped due to not running in a TTY. You can run `manage.py \
                 createsuperuser` in your project to create one manually.",
            );
            return Ok(());
        }
        let default = default_username(&users).await;
        match username.as_deref() {
            Some("") => return Err(err("Username cannot be blank.")),
            Some(name) => {
                if let Some(e) = validate_username(&users, name).await? {
                    console.err(&e);
                    username = None;
                }
            }
            None => {}
        }
        while username.is_none() {
            let prompt = if default.is_empty() {
                "Username: ".to_owned()
            } else {
                format!("Username (leave blank to use '{default}'): ")
            };
            let raw = console.input(&prompt).ok_or_else(cancelled)?;
            let raw = if raw.is_empty() { default.clone() } else { raw };
            if raw.is_empty() {
                console.err("Error: This field cannot be blank.");
                continue;
            }
            match validate_username(&users, &raw).await? {
                Some(e) => console.err(&e),
                None => username = Some(raw),
            }
        }
        email = match &options.email {
            Some(e) => clean_email(e).map_err(err)?,
            None => loop {
                let raw = console.input("Email address: ").ok_or_else(cancelled)?;
                match clean_email(&raw) {
                    Ok(e) => break e,
                    Err(e) => console.err(&format!("Error: {e}")),
                }
            },
        };
        while password.is_none() {
            let p1 = console.password("Password: ").ok_or_else(cancelled)?;
            let p2 = console
                .password("Password (again): ")
                .ok_or_else(cancelled)?;
            if p1 != p2 {
                console.err("Error: Your passwords didn't match.");
                continue;
            }
            if p1.trim().is_empty() {
                console.err("Error: Blank passwords aren't allowed.");
                continue;
            }
            // Django validates against a user made of the fields asked so far.
            let mut candidate = User::new("", username.clone().unwrap_or_default(), "");
            candidate.email = email.clone();
            if let Err(errors) = validators.validate_password(&p2, Some(&candidate)) {
                console.err(&errors.messages().join("\n"));
                let answer = console
                    .input("Bypass password validation and create user anyway? [y/N]: ")
                    .ok_or_else(cancelled)?;
                if answer.to_lowercase() != "y" {
                    continue;
                }
            }
            password = Some(p1);
        }
    } else {
        password = env("DJANGO_SUPERUSER_PASSWORD");
        if username.is_none() {
            username = env("DJANGO_SUPERUSER_USERNAME");
        }
        let Some(name) = username.as_deref() else {
            return Err(err("You must use --username with --noinput."));
        };
        if let Some(e) = validate_username(&users, name).await? {
            return Err(err(e));
        }
        let from_env = env("DJANGO_SUPERUSER_EMAIL");
        let value = options
            .email
            .clone()
            .filter(|e| !e.is_empty())
            .or_else(|| from_env.clone().filter(|e| !e.is_empty()));
        email = match value {
            Some(v) => clean_email(&v).map_err(err)?,
            // Blank is allowed when asked for explicitly.
            None if options.email.as_deref() == Some("") || from_env.as_deref() == Some("") => {
                String::new()
            }
            None => return Err(err("You must use --email with --noinput.")),
        };
    }
    let username = username.unwrap_or_default();
    let encoded = match password {
        Some(raw) => hashers.make_password(&raw),
        None => make_unusable_password(),
    };
    let mut user = User::new("", username, encoded);
    user.email = email;
    user.is_staff = true;
    user.is_superuser = true;
    match users.insert_user(&user).await {
        Ok(_) => {
            console.out("Superuser created successfully.");
            Ok(())
        }
        Err(e) if e.is_unique_violation() => Err(err("Error: That username is already taken.")),
        Err(e) => Err(err(e.to_string())),
    }
}

/// Django's `changepassword [username]`: asks twice; a mismatch or a password the validators
/// refuse uses up one of three tries.
pub async fn changepassword(
    settings: &Settings,
    username: Option<&str>,
    database: &str,
    console: &mut dyn Console,
) -> Result<(), CommandError> {
    let Users {
        backend: users,
        hashers,
        validators,
    } = users_for(settings, database)?;
    let username = match username {
        Some(u) if !u.is_empty() => u.to_owned(),
        _ => std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_default(),
    };
    let user = users
        .user_by_username(&username)
        .await
        .map_err(|e| err(e.to_string()))?
        .ok_or_else(|| err(format!("user '{username}' does not exist")))?;
    console.out(&format!("Changing password for user '{username}'"));
    const MAX_TRIES: u32 = 3;
    let mut count = 0;
    let password = loop {
        if count == MAX_TRIES {
            return Err(err(format!(
                "Aborting password change for user '{username}' after {count} attempts"
            )));
        }
        let p1 = console.password("Password: ").ok_or_else(cancelled)?;
        let p2 = console
            .password("Password (again): ")
            .ok_or_else(cancelled)?;
        if p1 != p2 {
            console.out("Passwords do not match. Please try again.");
            count += 1;
            continue;
        }
        match validators.validate_password(&p2, Some(&user)) {
            Ok(()) => break p1,
            Err(errors) => {
                console.err(&errors.messages().join("\n"));
                count += 1;
            }
        }
    };
    let encoded = hashers.make_password(&password);
    users
        .set_password_hash(&user.id, &encoded)
        .await
        .map_err(|e| err(e.to_string()))?;
    console.out(&format!(
        "Password changed successfully for user '{username}'"
    ));
    Ok(())
}
