//! Mirrors Django 6.1.3's tests/auth_tests/test_hashers.py (test names kept), with vectors made
//! by Django itself (tests/fixtures/django/hashers.json, make_hasher_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;

use super::*;

const FIXTURES: &str = include_str!("../../../../tests/fixtures/django/hashers.json");

fn hashers(list: &[Hasher]) -> PasswordHashers {
    PasswordHashers::new(list.to_vec()).unwrap()
}

fn pbkdf2(iterations: u32) -> Hasher {
    Hasher::Pbkdf2Sha256 { iterations }
}

/// Django's `check_password(password, encoded, setter, preferred)`: (correct, upgraded).
fn check_with_setter(
    h: &PasswordHashers,
    password: &str,
    encoded: &str,
    preferred: Option<&Hasher>,
) -> (bool, bool) {
    let upgraded = Cell::new(false);
    let v = h.verify_password_preferring(password, encoded, preferred.unwrap_or(h.preferred()));
    if v.is_correct && v.must_update {
        upgraded.set(true);
    }
    (v.is_correct, upgraded.get())
}

// Every hash Django 6.1.3 made verifies here, a wrong password does not, and re-encoding with
// the same salt (and parameters) gives Django's string byte for byte.
#[test]
fn django_vectors() {
    let fixtures: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
    assert_eq!(fixtures["django"], "6.1.3");
    let all = PasswordHashers::new(
        DEFAULT_PASSWORD_HASHERS
            .iter()
            .chain(&[
                "django.contrib.auth.hashers.BCryptPasswordHasher",
                "django.contrib.auth.hashers.MD5PasswordHasher",
            ])
            .map(|p| Hasher::from_dotted_path(p).unwrap())
            .collect(),
    )
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for v in fixtures["hashes"].as_array().unwrap() {
        let password = v["password"].as_str().unwrap();
        let encoded = v["encoded"].as_str().unwrap();
        let algorithm = v["algorithm"].as_str().unwrap();
        let hasher = all.identify(encoded).unwrap();
        assert_eq!(hasher.algorithm(), algorithm);
        seen.insert(algorithm);
        assert!(hasher.verify(password, encoded), "{encoded}");
        assert!(
            !hasher.verify(&format!("{password}x"), encoded),
            "{encoded}"
        );
        assert_eq!(hasher.must_update(encoded), v["must_update"], "{encoded}");
        if let Some(salt) = v["decoded_salt"].as_str() {
            assert_eq!(
                hasher.decoded_salt(encoded).as_deref(),
                Some(salt),
                "{encoded}"
            );
        }
        let Some(salt) = v["salt"].as_str() else {
            continue;
        };
        let with_params = match (hasher, &v["params"]) {
            (Hasher::Argon2(_), p) if p.is_object() => Hasher::Argon2(Argon2Params {
                time_cost: p["time_cost"].as_u64().unwrap() as u32,
                memory_cost: p["memory_cost"].as_u64().unwrap() as u32,
                parallelism: p["parallelism"].as_u64().unwrap() as u32,
            }),
            (Hasher::Scrypt(_), p) if p.is_object() => Hasher::Scrypt(ScryptParams {
                work_factor: p["work_factor"].as_u64().unwrap(),
                block_size: p["block_size"].as_u64().unwrap() as u32,
                parallelism: p["parallelism"].as_u64().unwrap() as u32,
            }),
            (h, _) => *h,
        };
        assert_eq!(with_params.encode(password, salt).unwrap(), encoded);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "argon2",
            "bcrypt",
            "bcrypt_sha256",
            "md5",
            "pbkdf2_sha1",
            "scrypt"
        ]
    );
}

// Django: TestUtilsHashPass::test_simple
#[test]
fn test_simple() {
    let encoded = make_password("lètmein");
    assert!(encoded.starts_with("pbkdf2_sha256$"));
    assert!(is_password_usable(&encoded));
    assert!(check_password("lètmein", &encoded));
    assert!(!check_password("lètmeinz", &encoded));
    let blank = make_password("");
    assert!(check_password("", &blank));
    assert!(!check_password(" ", &blank));
}

// Django: TestUtilsHashPass::test_pbkdf2 and test_low_level_pbkdf2 (Django's own vectors).
#[test]
fn test_pbkdf2() {
    let h = PasswordHashers::default();
    let encoded = h
        .make_password_with("lètmein", Some("seasalt"), Some(PBKDF2_SHA256))
        .unwrap();
    assert_eq!(
        encoded,
        "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to="
    );
    assert!(check_password("lètmein", &encoded));
    assert!(!check_password("lètmeinz", &encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), PBKDF2_SHA256);
    let hasher = h.get(PBKDF2_SHA256).unwrap();
    assert!(hasher.must_update(&encoded.replace("seasalt", "iodizedsalt")));
    let strong = hasher.encode("lètmein", &hasher.salt()).unwrap();
    assert!(!hasher.must_update(&strong));
    assert_eq!(
        pbkdf2(PBKDF2_ITERATIONS)
            .encode("lètmein", "seasalt2")
            .unwrap(),
        "pbkdf2_sha256$1500000$seasalt2$xWKIh704updzhxL+vMfPbhVsHljK62FyE988AtcoHU4="
    );
}

// Django: TestUtilsHashPass::test_low_level_pbkdf2_sha1
#[test]
fn test_low_level_pbkdf2_sha1() {
    let hasher =
        Hasher::from_dotted_path("django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher").unwrap();
    let encoded = hasher.encode("lètmein", "seasalt2").unwrap();
    assert_eq!(
        encoded,
        "pbkdf2_sha1$1500000$seasalt2$ep4Ou2hnt2mlvMRsIjUln0Z5MYY="
    );
    assert!(hasher.verify("lètmein", &encoded));
}

// Django: TestUtilsHashPass::test_md5
#[test]
fn test_md5() {
    let h = hashers(&[Hasher::Md5]);
    let encoded = h
        .make_password_with("lètmein", Some("seasalt"), Some(MD5))
        .unwrap();
    assert_eq!(encoded, "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3");
    assert!(h.verify_password("lètmein", &encoded).is_correct);
    assert!(!h.verify_password("lètmeinz", &encoded).is_correct);
    assert!(Hasher::Md5.must_update(&encoded));
}

// Django: TestUtilsHashPass::test_bcrypt_sha256 (no truncation at 72 bytes; blank passwords)
#[test]
fn test_bcrypt_sha256() {
    let hasher = Hasher::BcryptSha256 { rounds: 4 };
    let h = hashers(&[hasher]);
    let encoded = h.make_password("lètmein");
    assert!(encoded.starts_with("bcrypt_sha256$$2b$04$"));
    assert!(h.verify_password("lètmein", &encoded).is_correct);
    assert!(!h.verify_password("lètmeinz", &encoded).is_correct);
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), BCRYPT_SHA256);
    let password = "VSK0UYV6FFQVZ0KG88DYN9WADAADZO1CTSIVDJUNZSUML6IBX7LN7ZS3R5JGB3RGZ7VI7G7DJQ9NI8BQFSRPTG6UWTTVESA5ZPUN";
    let encoded = h.make_password(password);
    assert!(h.verify_password(password, &encoded).is_correct);
    assert!(!h.verify_password(&password[..72], &encoded).is_correct);
    let blank = h.make_password("");
    assert!(h.verify_password("", &blank).is_correct);
    assert!(!h.verify_password(" ", &blank).is_correct);
}

// Django: TestUtilsHashPass::test_bcrypt
#[test]
fn test_bcrypt() {
    let h = hashers(&[Hasher::Bcrypt { rounds: 4 }]);
    let encoded = h.make_password("lètmein");
    assert!(encoded.starts_with("bcrypt$$2b$04$"));
    assert!(h.verify_password("lètmein", &encoded).is_correct);
    assert!(!h.verify_password("lètmeinz", &encoded).is_correct);
    let blank = h.make_password("");
    assert!(h.verify_password("", &blank).is_correct);
    assert!(!h.verify_password(" ", &blank).is_correct);
}

// Django: TestUtilsHashPass::test_bcrypt_upgrade
#[test]
fn test_bcrypt_upgrade() {
    let four = hashers(&[Hasher::Bcrypt { rounds: 4 }]);
    let encoded = four.make_password("letmein");
    assert_eq!(bcrypt::work_factor(&encoded), Some(4));
    assert_eq!(
        check_with_setter(&four, "letmein", &encoded, None),
        (true, false)
    );
    let five = hashers(&[Hasher::Bcrypt { rounds: 5 }]);
    assert_eq!(
        check_with_setter(&five, "letmein", &encoded, None),
        (true, true)
    );
}

// Django: TestUtilsHashPass::test_bcrypt_salt_check and test_bcryptsha256_salt_check
#[test]
fn test_bcrypt_salt_check() {
    for hasher in [
        Hasher::Bcrypt { rounds: 12 },
        Hasher::BcryptSha256 { rounds: 12 },
    ] {
        let cheap = match hasher {
            Hasher::Bcrypt { .. } => Hasher::Bcrypt { rounds: 4 },
            _ => Hasher::BcryptSha256 { rounds: 4 },
        };
        let encoded = cheap.encode("lètmein", &cheap.salt()).unwrap();
        assert!(!cheap.must_update(&encoded));
        assert!(hasher.must_update(&encoded));
    }
}

// Django: TestUtilsHashPass::test_unusable and test_is_password_usable
#[test]
fn test_unusable() {
    let encoded = make_unusable_password();
    assert_eq!(
        encoded.len(),
        UNUSABLE_PASSWORD_PREFIX.len() + UNUSABLE_PASSWORD_SUFFIX_LENGTH
    );
    assert!(!is_password_usable(&encoded));
    assert!(!check_password("", &encoded));
    assert!(!check_password(&encoded, &encoded));
    assert!(!check_password(
        UNUSABLE_PASSWORD_PREFIX,
        UNUSABLE_PASSWORD_PREFIX
    ));
    assert!(!must_update(&encoded));
    for usable in ["lètmein", "", "pbkdf2_sha256$"] {
        assert!(is_password_usable(usable));
    }
}

// Django: TestUtilsHashPass::test_bad_algorithm
#[test]
fn test_bad_algorithm() {
    let h = PasswordHashers::default();
    assert_eq!(
        h.make_password_with("lètmein", None, Some("lolcat")),
        Err(HashError::UnknownAlgorithm("lolcat".into()))
    );
    assert_eq!(
        HashError::UnknownAlgorithm("lolcat".into()).to_string(),
        "Unknown password hashing algorithm 'lolcat'. Did you specify it in the PASSWORD_HASHERS setting?"
    );
    assert!(h.identify("lolcat$salt$hash").is_none());
    assert!(!check_password("lètmein", "lolcat$salt$hash"));
}

// Django: TestUtilsHashPass::test_upgrade (a correct password of another listed hasher is
// upgraded to the preferred one)
#[test]
fn test_upgrade() {
    let h = hashers(&[
        pbkdf2(PBKDF2_ITERATIONS),
        Hasher::Pbkdf2Sha1 { iterations: 10 },
        Hasher::Md5,
    ]);
    for algorithm in [PBKDF2_SHA1, MD5] {
        let encoded = h
            .make_password_with("lètmein", None, Some(algorithm))
            .unwrap();
        assert_eq!(
            check_with_setter(&h, "lètmein", &encoded, None),
            (true, true),
            "{algorithm}"
        );
    }
}

// Django: TestUtilsHashPass::test_no_upgrade and test_no_upgrade_on_incorrect_pass
#[test]
fn test_no_upgrade_on_incorrect_pass() {
    let h = hashers(&[
        pbkdf2(10),
        Hasher::Pbkdf2Sha1 { iterations: 10 },
        Hasher::Md5,
    ]);
    for algorithm in [PBKDF2_SHA256, PBKDF2_SHA1, MD5] {
        let encoded = h
            .make_password_with("lètmein", None, Some(algorithm))
            .unwrap();
        assert_eq!(
            check_with_setter(&h, "WRONG", &encoded, None),
            (false, false),
            "{algorithm}"
        );
    }
}

// Django: TestUtilsHashPass::test_pbkdf2_upgrade
#[test]
fn test_pbkdf2_upgrade() {
    let one = hashers(&[pbkdf2(1)]);
    let encoded = one.make_password("letmein");
    assert_eq!(encoded.split('$').nth(1), Some("1"));
    assert_eq!(
        check_with_setter(&one, "letmein", &encoded, None),
        (true, false)
    );
    let more = hashers(&[pbkdf2(1000)]);
    assert_eq!(
        check_with_setter(&more, "letmein", &encoded, None),
        (true, true)
    );
    // The free function: Django's defaults.
    assert!(must_update(&encoded));
}

// Django: TestUtilsHashPass::test_pbkdf2_upgrade_new_hasher (a hasher of the same algorithm
// with other iterations listed first)
#[test]
fn test_pbkdf2_upgrade_new_hasher() {
    let single = hashers(&[pbkdf2(1)]);
    let encoded = single.make_password("letmein");
    assert_eq!(
        check_with_setter(&single, "letmein", &encoded, None),
        (true, false)
    );
    let both = hashers(&[pbkdf2(1000), pbkdf2(1)]);
    assert_eq!(
        check_with_setter(&both, "letmein", &encoded, None),
        (true, true)
    );
}

// Django: TestUtilsHashPass::test_check_password_calls_harden_runtime and
// test_pbkdf2_harden_runtime: a wrong password against a cheaper hash of the preferred
// algorithm still costs the current work factor; a right one does not need it.
#[test]
fn test_pbkdf2_harden_runtime() {
    let cheap = pbkdf2(1).encode("letmein", "salt").unwrap();
    let h = hashers(&[pbkdf2(300_000)]);
    let timed = |password: &str| {
        let start = std::time::Instant::now();
        let v = h.verify_password(password, &cheap);
        (v, start.elapsed())
    };
    let (right, fast) = timed("letmein");
    let (wrong, slow) = timed("wrong_password");
    assert!(right.is_correct && right.must_update);
    assert!(!wrong.is_correct && wrong.must_update);
    // 299,999 extra iterations against 1: far apart however loaded the machine is.
    assert!(slow > fast * 20, "{slow:?} vs {fast:?}");
}

// Django: TestUtilsHashPass::test_bcrypt_harden_runtime (4 → 6 rounds: three more encodes)
#[test]
fn test_bcrypt_harden_runtime() {
    let encoded = Hasher::Bcrypt { rounds: 4 }
        .encode("letmein", &bcrypt::gensalt(4))
        .unwrap();
    let h = hashers(&[Hasher::Bcrypt { rounds: 6 }]);
    let v = h.verify_password("wrong_password", &encoded);
    assert_eq!((v.is_correct, v.must_update), (false, true));
    let v = h.verify_password("letmein", &encoded);
    assert_eq!((v.is_correct, v.must_update), (true, true));
}

// Django: TestUtilsHashPass::test_check_password_calls_make_password_to_fake_runtime: an
// unusable or unknown encoding still runs the preferred hasher once.
#[test]
fn test_check_password_calls_make_password_to_fake_runtime() {
    let h = hashers(&[pbkdf2(300_000)]);
    let known = pbkdf2(300_000).encode("letmein", "salt").unwrap();
    let start = std::time::Instant::now();
    assert!(
        !h.verify_password("letmein", &known.replacen("pbkdf2_sha256", "unknown", 1))
            .is_correct
    );
    assert!(
        !h.verify_password("foo", &make_unusable_password())
            .is_correct
    );
    let faked = start.elapsed();
    let start = std::time::Instant::now();
    assert!(h.verify_password("letmein", &known).is_correct);
    let real = start.elapsed();
    // Two fake runs cost about two real ones; far more than parsing alone.
    assert!(faked * 4 > real, "{faked:?} vs {real:?}");
}

// Django: TestUtilsHashPass::test_encode_invalid_salt
#[test]
fn test_encode_invalid_salt() {
    for hasher in [
        Hasher::Md5,
        pbkdf2(1),
        Hasher::Pbkdf2Sha1 { iterations: 1 },
        Hasher::Scrypt(ScryptParams::default()),
        Hasher::Argon2(Argon2Params::default()),
    ] {
        for salt in ["", "sea$salt"] {
            assert_eq!(
                hasher.encode("password", salt),
                Err(HashError::BadSalt),
                "{hasher:?}"
            );
        }
    }
    assert_eq!(
        Hasher::BcryptSha256 { rounds: 4 }.encode("password", "notabcryptsalt"),
        Err(HashError::BadSalt)
    );
}

// Django: TestUtilsHashPassArgon2::test_argon2 (Django's default parameters; old hashes of
// argon2i with and without a version)
#[test]
fn test_argon2() {
    let h = PasswordHashers::default();
    let encoded = h.make_password_with("lètmein", None, Some(ARGON2)).unwrap();
    assert!(encoded.starts_with("argon2$argon2id$v=19$m=102400,t=2,p=8$"));
    assert!(h.verify_password("lètmein", &encoded).is_correct);
    assert!(!h.verify_password("lètmeinz", &encoded).is_correct);
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), ARGON2);
    let blank = h.make_password_with("", None, Some(ARGON2)).unwrap();
    assert!(h.verify_password("", &blank).is_correct);
    assert!(!h.verify_password(" ", &blank).is_correct);
    let old = "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg";
    assert!(check_password("secret", old));
    assert!(!check_password("wrong", old));
    let old = "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
    assert!(check_password("secret", old));
    assert!(!check_password("wrong", old));
    let hasher = h.get(ARGON2).unwrap();
    let weak = hasher.encode("lètmein", "iodizedsalt").unwrap();
    let strong = hasher.encode("lètmein", &hasher.salt()).unwrap();
    assert!(hasher.must_update(&weak));
    assert!(!hasher.must_update(&strong));
}

// Django: TestUtilsHashPassArgon2::test_argon2_decode
#[test]
fn test_argon2_decode() {
    let params = Argon2Params::default();
    let encoded = Hasher::Argon2(params)
        .encode("lètmein", "abcdefghijk")
        .unwrap();
    let (salt, decoded) = argon2::salt_and_params(&encoded).unwrap();
    assert_eq!((salt.as_str(), decoded), ("abcdefghijk", params));
}

// Django: TestUtilsHashPassArgon2::test_argon2_upgrade (time cost, memory cost, parallelism)
#[test]
fn test_argon2_upgrade() {
    let small = Argon2Params {
        time_cost: 1,
        memory_cost: 64,
        parallelism: 1,
    };
    for changed in [
        Argon2Params {
            time_cost: 2,
            ..small
        },
        Argon2Params {
            memory_cost: 128,
            ..small
        },
        Argon2Params {
            parallelism: 2,
            ..small
        },
    ] {
        let old = hashers(&[Hasher::Argon2(changed)]);
        let encoded = old.make_password("letmein");
        assert_eq!(
            check_with_setter(&old, "letmein", &encoded, None),
            (true, false)
        );
        let new = hashers(&[Hasher::Argon2(small)]);
        assert_eq!(
            check_with_setter(&new, "letmein", &encoded, None),
            (true, true)
        );
    }
}

// Django: TestUtilsHashPassArgon2::test_argon2_version_upgrade
#[test]
fn test_argon2_version_upgrade() {
    let encoded = "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
    let small = Hasher::Argon2(Argon2Params {
        time_cost: 1,
        memory_cost: 8,
        parallelism: 1,
    });
    let h = PasswordHashers::default();
    assert_eq!(
        check_with_setter(&h, "secret", encoded, Some(&small)),
        (true, true)
    );
}

// Django: TestUtilsHashPassScrypt::test_scrypt
#[test]
fn test_scrypt() {
    let h = PasswordHashers::default();
    let encoded = h
        .make_password_with("lètmein", Some("seasalt"), Some(SCRYPT))
        .unwrap();
    assert_eq!(
        encoded,
        "scrypt$16384$seasalt$8$5$ECMIUp+LMxMSK8xB/IVyba+KYGTI7FTnet025q/1f/vBAVnnP3hdYqJuRi+mJn6ji6ze3Fbb7JEFPKGpuEf5vw=="
    );
    assert!(check_password("lètmein", &encoded));
    assert!(!check_password("lètmeinz", &encoded));
    assert_eq!(h.identify(&encoded).unwrap().algorithm(), SCRYPT);
    let blank = h
        .make_password_with("", Some("seasalt"), Some(SCRYPT))
        .unwrap();
    assert!(check_password("", &blank));
    assert!(!check_password(" ", &blank));
}

// Django: TestUtilsHashPassScrypt::test_scrypt_decode
#[test]
fn test_scrypt_decode() {
    let encoded = Hasher::Scrypt(ScryptParams::default())
        .encode("lètmein", "seasalt")
        .unwrap();
    let (params, salt) = scrypt::decode(&encoded).unwrap();
    assert_eq!((params, salt), (ScryptParams::default(), "seasalt"));
}

// Django: TestUtilsHashPassScrypt::test_scrypt_upgrade
#[test]
fn test_scrypt_upgrade() {
    let d = ScryptParams::default();
    for changed in [
        ScryptParams {
            work_factor: 1 << 11,
            ..d
        },
        ScryptParams {
            block_size: 10,
            work_factor: 1 << 11,
            ..d
        },
        ScryptParams {
            parallelism: 2,
            work_factor: 1 << 11,
            ..d
        },
    ] {
        let old = hashers(&[Hasher::Scrypt(changed)]);
        let encoded = old
            .make_password_with("lètmein", Some("seasalt"), None)
            .unwrap();
        assert_eq!(
            check_with_setter(&old, "lètmein", &encoded, None),
            (true, false)
        );
        let new = hashers(&[Hasher::Scrypt(d)]);
        assert_eq!(
            check_with_setter(&new, "lètmein", &encoded, None),
            (true, true)
        );
    }
    // hashlib.scrypt's refusals: N not a power of two, over OpenSSL's 32 MiB.
    let bad = ScryptParams {
        work_factor: 1000,
        ..d
    };
    assert_eq!(
        Hasher::Scrypt(bad).encode("x", "salt"),
        Err(HashError::BadParameters)
    );
    let huge = ScryptParams {
        work_factor: 1 << 20,
        ..d
    };
    assert_eq!(
        Hasher::Scrypt(huge).encode("x", "salt"),
        Err(HashError::BadParameters)
    );
}

// PASSWORD_HASHERS: Django's dotted names, the first preferred; unknown names refused.
#[test]
fn password_hashers_setting() {
    let s = |toml: &str| Settings::from_toml_str(toml, "settings.toml").unwrap();
    let h = PasswordHashers::from_settings(&s("")).unwrap();
    assert_eq!(h, PasswordHashers::default());
    assert_eq!(
        h.hashers()
            .iter()
            .map(Hasher::algorithm)
            .collect::<Vec<_>>(),
        [PBKDF2_SHA256, PBKDF2_SHA1, ARGON2, BCRYPT_SHA256, SCRYPT]
    );
    let h = PasswordHashers::from_settings(&s(
        r#"PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]"#,
    ))
    .unwrap();
    assert_eq!(h.preferred().algorithm(), ARGON2);
    let err = PasswordHashers::from_settings(&s(r#"PASSWORD_HASHERS = ["myapp.hashers.Custom"]"#))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PASSWORD_HASHERS") && err.contains("myapp.hashers.Custom"),
        "{err}"
    );
    assert!(PasswordHashers::from_settings(&s("PASSWORD_HASHERS = []")).is_err());
}

#[test]
fn malformed_encodings_do_not_verify_or_panic() {
    for bad in [
        "",
        "pbkdf2_sha256",
        "pbkdf2_sha256$",
        "pbkdf2_sha256$$salt$hash",
        "pbkdf2_sha256$-1$salt$hash",
        "pbkdf2_sha256$+5$salt$hash",
        "pbkdf2_sha256$0$salt$hash",
        "pbkdf2_sha256$99999999999999999999$salt$hash",
        "pbkdf2_sha256$1$$",
        "pbkdf2_sha256$1$salt$",
        "md5$salt",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
        "argon2$argon2id$v=19$m=8,t=1$c29tZXNhbHQ$aGFzaA",
        "argon2$argon2x$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA",
        "argon2$argon2id$v=19$m=8,t=1,p=1$!!!$aGFzaA",
        "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$",
        "bcrypt_sha256$$2b$12$abc",
        "bcrypt_sha256$$2b$99$abcdefghijklmnopqrstuvabcdefghijklmnopqrstuvwxyz12345",
        "bcrypt$$2q$04$abcdefghijklmnopqrstuvabcdefghijklmnopqrstuvwxyz12345",
        "scrypt$16384$salt$8$5",
        "scrypt$3$salt$8$5$aGFzaA==",
        "scrypt$16384$salt$0$5$aGFzaA==",
        "plaintext",
        "pbkdf2_sha256\u{0}$1$s$h",
    ] {
        assert!(!check_password("", bad), "{bad:?}");
        assert!(!check_password("hash", bad), "{bad:?}");
    }
}
