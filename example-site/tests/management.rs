//! `example-site createsuperuser` and `changepassword` on a real SQLite file, named after
//! Django's tests/auth_tests/test_management.py. The interactive paths run in-process with a
//! scripted console (Django's tests mock `input`, `getpass` and a TTY the same way); the
//! `--noinput` and piped paths run the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use example_site::manage::{changepassword, createsuperuser, Console, CreateSuperuser};
use middleware_builtin::auth::hashers::PasswordHashers;
use middleware_builtin::auth::ModelBackend;
use middleware_builtin::db::{databases_from_settings, migrate::migrate};
use middleware_core::Settings;

struct Site {
    dir: PathBuf,
    settings_path: PathBuf,
    settings: Settings,
}

impl Drop for Site {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The `AUTH_PASSWORD_VALIDATORS` of Django's ChangepasswordManagementCommandTestCase and
/// CreatesuperuserManagementCommandTestCase.
const NUMERIC_VALIDATOR: &str = "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.NumericPasswordValidator\" }]";

impl Site {
    async fn new(name: &str) -> Site {
        Site::with_settings(name, NUMERIC_VALIDATOR).await
    }

    async fn with_settings(name: &str, extra: &str) -> Site {
        let dir = std::env::temp_dir().join(format!("mw-manage-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // MD5 first, as Django's test settings: fast, and the hasher new passwords must use.
        let text = format!(
            "SECRET_KEY = \"manage-test-key-0123456789-abcdefghijklmnopqrstuvwxyz\"\n\
             PASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\", \
             \"django.contrib.auth.hashers.PBKDF2PasswordHasher\"]\n{extra}\n\
             [DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"{}\"\n",
            dir.join("db.sqlite3").display()
        );
        let settings_path = dir.join("settings.toml");
        std::fs::write(&settings_path, &text).unwrap();
        let settings = Settings::from_file(&settings_path).unwrap();
        migrate(&users(&settings).database().clone()).await.unwrap();
        Site {
            dir,
            settings_path,
            settings,
        }
    }

    fn users(&self) -> ModelBackend {
        users(&self.settings)
    }

    async fn check(&self, username: &str, password: &str) -> bool {
        let hashers = PasswordHashers::from_settings(&self.settings).unwrap();
        let stored = self.users().user_by_username(username).await;
        let stored = stored.unwrap().unwrap();
        hashers
            .verify_password(password, &stored.password)
            .is_correct
    }

    /// `createsuperuser --noinput --username USERNAME --email ""` with `env`; its exit code.
    fn superuser(&self, username: &str, env: &[(&str, &str)]) -> i32 {
        self.run(&noinput(username), env, "").0
    }

    /// Runs the binary with `args`, `stdin` piped in; (exit code, stdout, stderr).
    fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_example-site"));
        cmd.arg("--settings")
            .arg(&self.settings_path)
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("DJANGO_SUPERUSER_USERNAME")
            .env_remove("DJANGO_SUPERUSER_PASSWORD")
            .env_remove("DJANGO_SUPERUSER_EMAIL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn users(settings: &Settings) -> ModelBackend {
    ModelBackend::new(
        databases_from_settings(settings)
            .unwrap()
            .get("default")
            .unwrap(),
    )
}

/// Django's MockTTY + mocked `input` / `getpass`: answers in order, output recorded.
#[derive(Default)]
struct Scripted {
    inputs: VecDeque<&'static str>,
    passwords: VecDeque<&'static str>,
    out: Vec<String>,
    err: Vec<String>,
    prompts: Vec<String>,
}

impl Console for Scripted {
    fn is_tty(&self) -> bool {
        true
    }
    fn input(&mut self, prompt: &str) -> Option<String> {
        self.prompts.push(prompt.to_owned());
        self.inputs.pop_front().map(str::to_owned)
    }
    fn password(&mut self, prompt: &str) -> Option<String> {
        self.prompts.push(prompt.to_owned());
        self.passwords.pop_front().map(str::to_owned)
    }
    fn out(&mut self, line: &str) {
        self.out.push(line.to_owned());
    }
    fn err(&mut self, line: &str) {
        self.err.push(line.to_owned());
    }
}

/// `createsuperuser --noinput --username USERNAME --email ""`.
fn noinput(username: &str) -> [&str; 6] {
    [
        "createsuperuser",
        "--noinput",
        "--username",
        username,
        "--email",
        "",
    ]
}

/// A console whose `input()` and `getpass()` answer these, in order.
fn scripted(inputs: &[&'static str], passwords: &[&'static str]) -> Scripted {
    Scripted {
        inputs: inputs.iter().copied().collect(),
        passwords: passwords.iter().copied().collect(),
        ..Default::default()
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn interactive() -> CreateSuperuser {
    CreateSuperuser {
        database: "default".into(),
        ..Default::default()
    }
}

// CreatesuperuserManagementCommandTestCase.test_basic_usage: --noinput with a username and an
// email creates a superuser with an unusable password.
#[tokio::test]
async fn test_basic_usage() {
    let site = Site::new("basic").await;
    let (code, out, err) = site.run(
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "joe",
            "--email",
            "joe@somewhere.org",
        ],
        &[],
        "",
    );
    assert_eq!(
        (code, out.trim(), err.as_str()),
        (0, "Superuser created successfully.", "")
    );
    let u = site.users().user_by_username("joe").await.unwrap().unwrap();
    assert_eq!(u.email, "joe@somewhere.org");
    assert!(u.is_superuser && u.is_staff && u.is_active);
    assert!(!u.has_usable_password());
}

// CreatesuperuserManagementCommandTestCase.test_environment_variable_non_interactive: the
// DJANGO_SUPERUSER_* variables, the password hashed with the first PASSWORD_HASHERS entry.
#[tokio::test]
async fn test_environment_variable_non_interactive() {
    let site = Site::new("env").await;
    let (code, out, _) = site.run(
        &["createsuperuser", "--no-input"],
        &[
            ("DJANGO_SUPERUSER_USERNAME", "test_superuser"),
            ("DJANGO_SUPERUSER_PASSWORD", "test_password"),
            ("DJANGO_SUPERUSER_EMAIL", "joe@somewhere.org"),
        ],
        "",
    );
    assert_eq!((code, out.trim()), (0, "Superuser created successfully."));
    let u = site
        .users()
        .user_by_username("test_superuser")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.email, "joe@somewhere.org");
    assert!(
        u.password.starts_with("md5$"),
        "the first PASSWORD_HASHERS entry"
    );
    assert!(site.check("test_superuser", "test_password").await);
    assert_eq!(u.first_name, "");
    // The password never reaches the output.
    assert!(!out.contains("test_password"));
}

// test_existing_username_non_interactive, test_blank_username_non_interactive, and the
// missing --username / --email with --noinput.
#[tokio::test]
async fn test_existing_username_non_interactive() {
    let site = Site::new("existing").await;
    assert_eq!(site.superuser("janet", &[]), 0);
    let (code, _, err) = site.run(&noinput("janet"), &[], "");
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "CommandError: Error: That username is already taken."
    );
    let (code, _, err) = site.run(&noinput(""), &[], "");
    assert_eq!(
        (code, err.trim()),
        (1, "CommandError: Username cannot be blank.")
    );
    let (_, _, err) = site.run(&["createsuperuser", "--noinput"], &[], "");
    assert_eq!(
        err.trim(),
        "CommandError: You must use --username with --noinput."
    );
    let (_, _, err) = site.run(
        &["createsuperuser", "--noinput", "--username", "x"],
        &[],
        "",
    );
    assert_eq!(
        err.trim(),
        "CommandError: You must use --email with --noinput."
    );
    let (_, _, err) = site.run(&noinput("a b"), &[], "");
    assert!(err.contains("Enter a valid username."), "{err}");
}

// test_blank_email_allowed_non_interactive and ..._environment_variable.
#[tokio::test]
async fn test_blank_email_allowed_non_interactive() {
    let site = Site::new("blank-email").await;
    let (code, out, _) = site.run(&noinput("joe"), &[], "");
    assert_eq!((code, out.trim()), (0, "Superuser created successfully."));
    let (code, _, _) = site.run(
        &["createsuperuser", "--noinput", "--username", "ann"],
        &[("DJANGO_SUPERUSER_EMAIL", "")],
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(
        site.users()
            .user_by_username("ann")
            .await
            .unwrap()
            .unwrap()
            .email,
        ""
    );
}

// test_skip_if_not_in_TTY: interactive without a terminal creates nobody.
#[tokio::test]
async fn test_skip_if_not_in_tty() {
    let site = Site::new("notty").await;
    let (code, out, _) = site.run(&["createsuperuser"], &[], "joe\n");
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Superuser creation skipped due to not running in a TTY."),
        "{out}"
    );
    assert!(site
        .users()
        .user_by_username("joe")
        .await
        .unwrap()
        .is_none());
}

// test_existing_username (interactive: asked again), test_validation_mismatched_passwords,
// test_validation_blank_password_entered, and the email asked for.
#[tokio::test]
async fn test_validation_mismatched_passwords() {
    let site = Site::new("interactive").await;
    assert_eq!(site.superuser("janet", &[]), 0);
    let console = create_interactively(
        &site,
        &["janet", "", "joe", "not an email", "joe@Example.COM"],
        &["a", "b", " ", " ", "password", "password"],
    )
    .await;
    assert_eq!(
        console.err,
        [
            "Error: That username is already taken.",
            "Error: This field cannot be blank.",
            "Error: Enter a valid email address.",
            "Error: Your passwords didn't match.",
            "Error: Blank passwords aren't allowed.",
        ]
    );
    assert_eq!(console.out, ["Superuser created successfully."]);
    assert!(console.prompts.iter().any(|p| p == "Password (again): "));
    let u = site.users().user_by_username("joe").await.unwrap().unwrap();
    assert_eq!(
        u.email, "joe@example.com",
        "normalize_email lower-cases the domain"
    );
    assert!(site.check("joe", "password").await);
}

// ChangepasswordManagementCommandTestCase.test_that_changepassword_command_changes_joes_password,
// test_that_max_tries_exits_1, test_nonexistent_username (the real binary, passwords piped in
// as getpass reads them without a terminal).
#[tokio::test]
async fn test_that_changepassword_command_changes_joes_password() {
    let site = Site::new("changepw").await;
    assert_eq!(
        site.superuser("joe", &[("DJANGO_SUPERUSER_PASSWORD", "qwerty")]),
        0
    );
    assert!(site.check("joe", "qwerty").await);
    let (code, out, _) = site.run(&["changepassword", "joe"], &[], "not qwerty\nnot qwerty\n");
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "Changing password for user 'joe'\nPassword changed successfully for user 'joe'"
    );
    assert!(site.check("joe", "not qwerty").await);
    let stored = site.users().user_by_username("joe").await.unwrap().unwrap();
    assert!(stored.password.starts_with("md5$"));

    let (code, out, err) = site.run(&["changepassword", "joe"], &[], "a\nb\nc\nd\ne\nf\n");
    assert_eq!(code, 1);
    assert_eq!(
        out.matches("Passwords do not match. Please try again.")
            .count(),
        3
    );
    // The prompts go to stderr, as getpass writes them without a terminal.
    assert!(
        err.trim_end()
            .ends_with("CommandError: Aborting password change for user 'joe' after 3 attempts"),
        "{err}"
    );
    assert!(site.check("joe", "not qwerty").await, "unchanged");

    let (code, _, err) = site.run(&["changepassword", "test"], &[], "");
    assert_eq!(
        (code, err.trim()),
        (1, "CommandError: user 'test' does not exist")
    );
}

// The same in-process: a mismatch, then the change.
#[tokio::test]
async fn changepassword_asks_again_on_mismatch() {
    let site = Site::new("changepw2").await;
    assert_eq!(site.superuser("joe", &[]), 0);
    let mut console = scripted(&[], &["one", "two", "three", "three"]);
    changepassword(&site.settings, Some("joe"), "default", &mut console)
        .await
        .unwrap();
    assert_eq!(
        console.out,
        [
            "Changing password for user 'joe'",
            "Passwords do not match. Please try again.",
            "Password changed successfully for user 'joe'",
        ]
    );
    assert!(site.check("joe", "three").await);
}

/// Interactive `createsuperuser` with these answers; the console, with what was said.
async fn create_interactively(
    site: &Site,
    inputs: &[&'static str],
    passwords: &[&'static str],
) -> Scripted {
    let mut console = scripted(inputs, passwords);
    createsuperuser(&site.settings, &interactive(), &no_env, &mut console)
        .await
        .unwrap();
    console
}

// CreatesuperuserManagementCommandTestCase.test_password_validation: a refused password, the
// bypass declined ("n"), asked again.
#[tokio::test]
async fn test_password_validation() {
    let site = Site::new("validation").await;
    let console = create_interactively(
        &site,
        &["joe1234567890", "", "n"],
        &["1234567890", "1234567890", "password", "password"],
    )
    .await;
    assert_eq!(console.err, ["This password is entirely numeric."]);
    assert_eq!(console.out, ["Superuser created successfully."]);
    assert!(site.check("joe1234567890", "password").await);
}

// CreatesuperuserManagementCommandTestCase.test_password_validation_bypass: "y" keeps the
// refused password, after Django's question.
#[tokio::test]
async fn test_password_validation_bypass() {
    let site = Site::new("bypass").await;
    let console = create_interactively(
        &site,
        &["joe1234567890", "", "y"],
        &["1234567890", "1234567890"],
    )
    .await;
    assert_eq!(console.err, ["This password is entirely numeric."]);
    assert_eq!(
        console.prompts.last().map(String::as_str),
        Some("Bypass password validation and create user anyway? [y/N]: ")
    );
    assert_eq!(console.out, ["Superuser created successfully."]);
    assert!(site.check("joe1234567890", "1234567890").await);
}

// CreatesuperuserManagementCommandTestCase.test_validate_password_against_username: the user
// being made (its username and email) is what UserAttributeSimilarityValidator compares.
#[tokio::test]
async fn test_validate_password_against_username() {
    let site = Site::with_settings(
        "similar",
        "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.UserAttributeSimilarityValidator\" }]",
    )
    .await;
    let console = create_interactively(
        &site,
        &["supremelycomplex", "", "n"],
        &[
            "supremelycomplex",
            "supremelycomplex",
            "superduperunguessablepassword",
            "superduperunguessablepassword",
        ],
    )
    .await;
    assert_eq!(
        console.err,
        ["The password is too similar to the username."]
    );
    assert_eq!(console.out, ["Superuser created successfully."]);
}

// ChangepasswordManagementCommandTestCase.test_password_validation: three refused passwords
// use up the three tries (the real binary, passwords piped in).
#[tokio::test]
async fn test_changepassword_password_validation() {
    let site = Site::new("changepw-validation").await;
    assert_eq!(
        site.superuser("joe", &[("DJANGO_SUPERUSER_PASSWORD", "qwerty")]),
        0
    );
    let (code, _, err) = site.run(&["changepassword", "joe"], &[], &"1234567890\n".repeat(6));
    assert_eq!(code, 1);
    assert_eq!(
        err.matches("This password is entirely numeric.").count(),
        3,
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("CommandError: Aborting password change for user 'joe' after 3 attempts"),
        "{err}"
    );
    assert!(site.check("joe", "qwerty").await, "unchanged");
}

// An unknown validator stops the commands before they ask anything, naming the setting.
#[tokio::test]
async fn unknown_password_validator_is_refused() {
    let site = Site::with_settings(
        "bad-validator",
        "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"json.tool\" }]",
    )
    .await;
    let (code, _, err) = site.run(&["changepassword", "joe"], &[], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("The module in NAME could not be imported: json.tool"),
        "{err}"
    );
    assert!(err.contains("AUTH_PASSWORD_VALIDATORS"), "{err}");
}
