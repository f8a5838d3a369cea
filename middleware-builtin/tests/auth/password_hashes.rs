//! Password hashes and session auth hashes against vectors Django 6.1.3 made, and the Rust-made
//! values the live cross-check gives Django.

use super::*;

// Django: tests/auth_tests/test_hashers.py::TestUtilsHashPass::test_pbkdf2 and
// test_pbkdf2_sha1, with hashes made by Django 6.1.3 (tests/fixtures/django/auth.json).
#[test]
fn django_pbkdf2_vectors() {
    let fixtures = auth_fixtures();
    assert_eq!(fixtures["default_iterations"], hashers::PBKDF2_ITERATIONS);
    let vectors = fixtures["hashes"].as_array().unwrap();
    assert!(vectors.len() >= 6);
    for v in vectors {
        let password = v["password"].as_str().unwrap();
        let encoded = v["encoded"].as_str().unwrap();
        assert!(check_password(password, encoded), "{encoded}");
        assert!(
            !check_password(&format!("{password}x"), encoded),
            "{encoded}"
        );
        let parts: Vec<&str> = encoded.split('$').collect();
        if parts[0] == hashers::PBKDF2_SHA256 {
            let iterations: u32 = parts[1].parse().unwrap();
            assert_eq!(
                make_password_with(password, parts[2], iterations).unwrap(),
                encoded
            );
            assert_eq!(
                hashers::must_update(encoded),
                iterations != hashers::PBKDF2_ITERATIONS
            );
        } else {
            assert!(hashers::must_update(encoded));
        }
    }
}

// Django: test_hashers.py::TestUtilsHashPass::test_simple (make_password uses the default
// hasher and verifies; every salt differs).
#[test]
fn make_password_default() {
    let a = hashers::make_password("lètmein");
    let b = hashers::make_password("lètmein");
    assert_ne!(a, b);
    assert!(a.starts_with("pbkdf2_sha256$1500000$"));
    assert!(check_password("lètmein", &a));
    assert!(!hashers::must_update(&a));
}

// Session auth hashes computed by Django for the same passwords and keys.
#[test]
fn django_session_auth_hash_vectors() {
    for v in auth_fixtures()["session_auth_hash"].as_array().unwrap() {
        assert_eq!(
            session_auth_hash(
                v["password"].as_str().unwrap(),
                v["secret"].as_str().unwrap().as_bytes()
            ),
            v["hexdigest"].as_str().unwrap()
        );
    }
}

// Rust-made values for the live cross-check (`scripts/django_crosscheck.sh` runs
// tests/fixtures/django/check_auth_hashes.py, which runs this test with RUST_AUTH_OUT set and
// verifies every value with Django 6.1.3).
#[test]
fn rust_values_for_django() {
    let mut hashes = Vec::new();
    for password in ["demo-password", "pässwörd 😀", ""] {
        let encoded = hashers::make_password(password);
        assert!(check_password(password, &encoded));
        hashes.push(json!({"password": password, "encoded": encoded}));
    }
    let long = "z".repeat(100);
    let encoded = make_password_with(&long, "longsalt", 7).unwrap();
    assert!(check_password(&long, &encoded));
    hashes.push(json!({"password": long.clone(), "encoded": encoded}));
    // Every other hasher of Django's default PASSWORD_HASHERS, with Django's parameters.
    let defaults = hashers::PasswordHashers::default();
    for hasher in &defaults.hashers()[1..] {
        for password in ["pässwörd 😀", "", long.as_str()] {
            let encoded = defaults
                .make_password_with(password, None, Some(hasher.algorithm()))
                .unwrap();
            assert!(check_password(password, &encoded), "{encoded}");
            hashes.push(json!({"password": password, "encoded": encoded}));
        }
    }
    let session_hashes: Vec<Value> = hashes
        .iter()
        .map(|h| {
            let password = h["encoded"].as_str().unwrap();
            json!({"secret": SECRET, "password": password,
                   "hexdigest": session_auth_hash(password, SECRET.as_bytes())})
        })
        .collect();
    if let Ok(path) = std::env::var("RUST_AUTH_OUT") {
        let out = json!({"hashes": hashes, "session_auth_hash": session_hashes});
        std::fs::write(path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    }
}
