//! `example-site serve | check [--deploy] | middleware | migrate | clearsessions |
//! createsuperuser | changepassword`, each with `--settings PATH`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use middleware_core::server::{self, ServerConfig};
use middleware_core::EntryStatus;

#[derive(Parser)]
#[command(
    name = "example-site",
    about = "Django's middleware model in Rust: the example site"
)]
struct Cli {
    /// The settings file (default: the site's own settings.toml).
    #[arg(long, global = true)]
    settings: Option<PathBuf>,
    /// The routes to serve (Django's ROOT_URLCONF): `site` (default), or `conformance2` (the
    /// routes of shared/conformance2/ROUTES.md).
    #[arg(long, global = true, default_value = "site", value_parser = parse_urlconf)]
    urlconf: example_site::Urlconf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP/1.1 and HTTP/2 (cleartext) until SIGINT/SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
        /// Start without running the system checks (Django's `runserver --skip-checks`).
        #[arg(long)]
        skip_checks: bool,
    },
    /// Run the system checks; exits non-zero on errors.
    Check {
        /// Also run the deployment checks.
        #[arg(long)]
        deploy: bool,
    },
    /// Create Django's tables (sessions, auth, sites, redirects, flatpages) on every database
    /// in DATABASES, as Django 6.1's `migrate` would, and record them in django_migrations.
    Migrate,
    /// Delete the expired rows of django_session (Django's `clearsessions`).
    Clearsessions,
    /// Create a superuser in auth_user (Django's `createsuperuser`).
    Createsuperuser {
        /// The username.
        #[arg(long)]
        username: Option<String>,
        /// The email address.
        #[arg(long)]
        email: Option<String>,
        /// Ask nothing: take the username, email and password from the options and
        /// DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD
        /// (no password: an unusable one).
        #[arg(long = "noinput", visible_alias = "no-input")]
        no_input: bool,
        /// The DATABASES alias.
        #[arg(long, default_value = "default")]
        database: String,
    },
    /// Change a user's password (Django's `changepassword`): asked twice.
    Changepassword {
        /// The user (default: the system user's name).
        username: Option<String>,
        /// The DATABASES alias.
        #[arg(long, default_value = "default")]
        database: String,
    },
    /// Print the built chain, outermost first, with skipped entries and why.
    Middleware {
        /// Print every registered middleware name instead (one per line).
        #[arg(long)]
        registered: bool,
    },
}

fn parse_urlconf(name: &str) -> Result<example_site::Urlconf, String> {
    example_site::Urlconf::from_name(name)
        .ok_or_else(|| format!("unknown URLconf {name:?}: use site or conformance2"))
}

fn main() -> ExitCode {
    // The request log (a line per request and the seed's logging middleware) must not make
    // each request wait for a `write` to stdout: lines are formatted on the request's thread
    // and appended to a shared buffer, which one thread writes out in batches
    // (example_site::log_writer). Not lossy: when the writer falls 4 MiB behind, requests wait
    // for it rather than lines being dropped. `_log` writes what is left when main returns
    // (after graceful shutdown).
    let (log_writer, _log) = match example_site::log_writer::spawn(std::io::stdout()) {
        Ok(writer) => writer,
        Err(e) => {
            eprintln!("error: cannot start the log writer thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(log_writer);
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        // Colours on a terminal.
        log.init();
    } else {
        // Log files and journald: the same lines without colour, formatted for less work
        // (example_site::log).
        log.with_ansi(false)
            .event_format(example_site::log::LogFormat)
            .init();
    }
    let cli = Cli::parse();
    let settings = match example_site::load_settings(cli.settings.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let registry = example_site::registry_for(cli.urlconf);
    match cli.command.unwrap_or(Command::Serve {
        bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
        skip_checks: false,
    }) {
        Command::Check { deploy } => {
            if let Err(e) = example_site::build_chain_for(cli.urlconf, &registry, &settings) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            if print_checks(&registry, &settings, deploy) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Migrate => match example_site::database::migrate_all(&settings) {
            Ok(done) if done.is_empty() => {
                eprintln!(
                    "error: DATABASES is empty in {}: nothing to migrate",
                    settings.source()
                );
                ExitCode::from(2)
            }
            Ok(done) => {
                println!("Operations to perform:\n  Apply all migrations: auth, contenttypes, flatpages, redirects, sessions, sites\nRunning migrations:");
                for (alias, applied) in done {
                    if applied.is_empty() {
                        println!("  No migrations to apply ({alias}).");
                    }
                    for name in applied {
                        println!("  Applying {name}... OK ({alias})");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Clearsessions => match example_site::database::clearsessions(&settings) {
            Ok(done) => {
                for (alias, n) in done {
                    println!("Deleted {n} expired sessions ({alias}).");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Createsuperuser {
            username,
            email,
            no_input,
            database,
        } => {
            let options = example_site::manage::CreateSuperuser {
                username,
                email,
                no_input,
                database,
            };
            let mut console = example_site::manage::StdConsole;
            run_command(example_site::manage::createsuperuser(
                &settings,
                &options,
                &|name| std::env::var(name).ok(),
                &mut console,
            ))
        }
        Command::Changepassword { username, database } => {
            let mut console = example_site::manage::StdConsole;
            run_command(example_site::manage::changepassword(
                &settings,
                username.as_deref(),
                &database,
                &mut console,
            ))
        }
        Command::Middleware { registered: true } => {
            let mut names: Vec<&str> = registry.names().collect();
            names.sort_unstable();
            for n in names {
                println!("{n}");
            }
            ExitCode::SUCCESS
        }
        Command::Middleware { registered: false } => {
            match example_site::build_chain_for(cli.urlconf, &registry, &settings) {
                Ok(chain) => {
                    println!("MIDDLEWARE (outermost first) from {}:", settings.source());
                    for (i, e) in chain.entries().iter().enumerate() {
                        match &e.status {
                            EntryStatus::Active => println!("  {i:2}. {}", e.name),
                            EntryStatus::NotUsed(reason) => println!(
                                "  {i:2}. {} (skipped: not used{})",
                                e.name,
                                reason
                                    .as_ref()
                                    .map(|r| format!(": {r}"))
                                    .unwrap_or_default()
                            ),
                        }
                    }
                    println!("      -> views");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve { bind, skip_checks } => {
            let chain = match example_site::build_chain_for(cli.urlconf, &registry, &settings) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            // As Django's `runserver`: the checks run first and an error refuses the start.
            if !skip_checks {
                println!("Performing system checks...\n");
                if print_checks(&registry, &settings, false) {
                    return ExitCode::FAILURE;
                }
            }
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let config = match ServerConfig::from_settings(&settings) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(server::run(chain, bind, config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Runs the system checks and prints them as Django's `manage.py check` does: errors as
/// "SystemCheckError: ..." on stderr, other issues on stderr, a clean report on stdout.
/// `true` when there is an error.
fn print_checks(
    registry: &middleware_core::Registry,
    settings: &middleware_core::Settings,
    deploy: bool,
) -> bool {
    let messages = registry.run_checks(settings, deploy);
    let report = example_site::check_report(&messages);
    let serious = messages.iter().any(|m| m.is_serious());
    if serious {
        eprintln!("SystemCheckError: {report}");
    } else if messages.is_empty() {
        println!("{report}");
    } else {
        eprintln!("{report}");
    }
    serious
}

/// Runs a management command to completion on a runtime of its own; a `CommandError` is
/// printed as Django prints it (`CommandError: ...` on stderr, exit 1).
fn run_command(
    command: impl std::future::Future<Output = Result<(), example_site::manage::CommandError>>,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("CommandError: {e}");
            ExitCode::FAILURE
        }
    }
}
