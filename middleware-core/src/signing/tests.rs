//! The reference vectors, Django's `tests/signing` cases and the malformed-input cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;

use super::json::py_float_repr;
use super::*;
use crate::crypto::{salted_hmac, Algorithm};
use serde_json::{json, Value};

/// `SECRET_KEY` used for the reference vectors (§4 of the reference notes).
const KEY: &[u8] = b"django-insecure-test-key-0123456789";
const T0: i64 = 1_700_000_000;

fn at(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(secs)
}

// ---- reference vectors -------------------------------------------------

#[test]
fn signer_vectors() {
    assert_eq!(
        Signer::new(KEY).unwrap().with_salt("my-salt").sign("hello"),
        "hello:XVlYxn2t_Igqr6gt05QQLh2Lp5BCfwCvXULKY01mqzU"
    );
    assert_eq!(
        Signer::new(KEY).unwrap().sign("hello"),
        "hello:uKbadYY91gIvswRcRj-330vXLqJJLYvUXOSRxHxbtDU"
    );
}

#[test]
fn timestamp_signer_vector() {
    let signer = TimestampSigner::new(KEY).unwrap().with_salt("my-salt");
    let signed = signer.sign_at("hello", T0);
    assert_eq!(
        signed,
        "hello:1r31eq:ia1pfCgN03DQykTiHaKvDeaNNHCQC9d6yHj4FoK0mGo"
    );
    assert_eq!(signer.unsign_timestamp(&signed).unwrap(), ("hello", T0));
}

#[test]
fn dumps_vector() {
    let signed = dumps_at(&json!({"a": 1}), KEY, DUMPS_SALT, false, T0).unwrap();
    assert_eq!(
        signed,
        "eyJhIjoxfQ:1r31eq:b4Nl0al4NLn5XGOvTMbupuEZHd9HHZmCTB-2a43IYaE"
    );
    let back: Value = loads_at(&signed, KEY, &[], DUMPS_SALT, None, at(T0 as f64)).unwrap();
    assert_eq!(back, json!({"a": 1}));
}

#[test]
fn compressed_dumps_round_trip_and_django_vector() {
    let obj: Vec<u32> = (0..30).collect();
    let ours = dumps_at(&obj, KEY, DUMPS_SALT, true, T0).unwrap();
    assert!(ours.starts_with('.'), "compression should pay off: {ours}");
    let back: Vec<u32> = loads(&ours, KEY, &[], DUMPS_SALT, None).unwrap();
    assert_eq!(back, obj);

    let django = ".eJwNy8kNACEQA8GE-oHNXMSCNv80lm9JdRfCbIKkaIaDHgoZbRQoUaFGgw5e-B3jjQMnLtx48Pl-gH4Pug:1r31eq:Z0Qno3fVS5H0tWpeHjCOpvjy55RSWpx9tJAb74iQ2iA";
    let back: Vec<u32> = loads(django, KEY, &[], DUMPS_SALT, None).unwrap();
    assert_eq!(back, obj);
}

#[test]
fn session_encode_vectors() {
    let session = json!({"foo": "bar"});
    // SessionBase.encode(): dumps(..., compress=True); too short to compress.
    assert_eq!(
        dumps_at(
            &session,
            KEY,
            "django.contrib.sessions.SessionStore",
            true,
            T0
        )
        .unwrap(),
        "eyJmb28iOiJiYXIifQ:1r31eq:Mmx-jszD6K_WVEX59DieZsyMtPJaqKF0lqgZ9qsG1_M"
    );
    assert_eq!(
        dumps_at(
            &session,
            KEY,
            "django.contrib.sessions.backends.signed_cookies",
            true,
            T0
        )
        .unwrap(),
        "eyJmb28iOiJiYXIifQ:1r31eq:tLeYEGRX4kupEAM85mQlIdshwbtomLbPQHVTdCG2IB8"
    );
}

#[test]
fn signed_cookie_v2_vector() {
    let salt = cookie_signer_salt("c", "s");
    assert_eq!(salt, "django.http.cookies.v2:1:sc");
    let signed = get_cookie_signer(KEY, &[], &salt).unwrap().sign_at("v", T0);
    assert_eq!(
        signed,
        "v:1r31eq:abwGmoGPIjLczU6TXQuX_AX28HjlytPZZiPIt9La-6s"
    );
    assert_eq!(
        unsign_cookie(KEY, &[], "c", &signed, "s", None, false).unwrap(),
        "v"
    );
    // The v2 salt binds the name/salt split; the legacy one ("c" + "s")
    // would collide with cookie "cs" and an empty salt.
    assert!(unsign_cookie(KEY, &[], "cs", &signed, "", None, true).is_err());
}

#[test]
fn cookie_salt_counts_code_points() {
    assert_eq!(
        cookie_signer_salt("n", "\u{e9}t\u{e9}"),
        "django.http.cookies.v2:3:\u{e9}t\u{e9}n"
    );
    assert_eq!(legacy_cookie_signer_salt("n", "s"), "ns");
}

#[test]
fn legacy_cookie_salt_fallback() {
    let legacy = get_cookie_signer(KEY, &[], &legacy_cookie_signer_salt("c", "s"))
        .unwrap()
        .sign("v");
    assert!(unsign_cookie(KEY, &[], "c", &legacy, "s", None, false)
        .unwrap_err()
        .is_bad_signature());
    assert_eq!(
        unsign_cookie(KEY, &[], "c", &legacy, "s", None, true).unwrap(),
        "v"
    );
    // Expired v2 values are not retried with the legacy salt.
    let old = get_cookie_signer(KEY, &[], &cookie_signer_salt("c", "s"))
        .unwrap()
        .sign_at("v", T0);
    let err = unsign_cookie(
        KEY,
        &[],
        "c",
        &old,
        "s",
        Some(Duration::from_secs(60)),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(err, SigningError::SignatureExpired { .. }),
        "{err}"
    );
    // sign_cookie uses the v2 salt.
    let fresh = sign_cookie(KEY, &[], "c", "v", "s").unwrap();
    assert_eq!(
        get_cookie_signer(KEY, &[], "django.http.cookies.v2:1:sc")
            .unwrap()
            .unsign(&fresh, None)
            .unwrap(),
        "v"
    );
}

#[test]
fn messages_cookie_vector_decodes() {
    let cookie = ".eJyLjlaKj88qzs-Lz00tLk5MT1XSMdAxMtBR8kjNyclXitXBJm8ClHdKTFGwSbJT0lGqUIqNBQBBmhXq:1r31eq:r8wnHJ8jgUljhYiuMSZRQtsHgkpMoL64f8zhhVC0GZg";
    let signer = get_cookie_signer(KEY, &[], "django.contrib.messages").unwrap();
    let payload = signer.unsign_bytes_at(cookie, None, at(T0 as f64)).unwrap();
    assert_eq!(
        payload,
        br#"[["__json_message",0,20,"Hello"],["__json_message",0,40,"Bad <b>","x"]]"#
    );
}

// ---- mirrors of tests/signing/tests.py --------------------------------

/// `tests/signing/tests.py::TestSigner::test_signature`
#[test]
fn test_signature() {
    let signer = Signer::new("predictable-secret").unwrap();
    let signer2 = Signer::new("predictable-secret2").unwrap();
    for s in ["hello", "3098247:529:087:", "\u{2019}"] {
        let expected = B64.encode(salted_hmac(
            &format!("{}signer", signer.salt()),
            s.as_bytes(),
            b"predictable-secret",
            Algorithm::Sha256,
        ));
        assert_eq!(signer.signature(s), expected);
        assert_ne!(signer.signature(s), signer2.signature(s));
    }
}

/// `tests/signing/tests.py::TestSigner::test_signature_with_salt`
#[test]
fn test_signature_with_salt() {
    let signer = Signer::new("predictable-secret")
        .unwrap()
        .with_salt("extra-salt");
    let expected = B64.encode(salted_hmac(
        "extra-saltsigner",
        b"hello",
        b"predictable-secret",
        Algorithm::Sha256,
    ));
    assert_eq!(signer.signature("hello"), expected);
    assert_ne!(
        Signer::new("predictable-secret")
            .unwrap()
            .with_salt("one")
            .signature("hello"),
        Signer::new("predictable-secret")
            .unwrap()
            .with_salt("two")
            .signature("hello"),
    );
}

/// `tests/signing/tests.py::TestSigner::test_sign_unsign`
#[test]
fn test_sign_unsign() {
    let signer = Signer::new("predictable-secret").unwrap();
    for example in [
        "q;wjmbk;wkmb",
        "3098247529087",
        "3098247:529:087:",
        "jkw osanteuh ,rcuh nthu aou oauh ,ud du",
        "\u{2019}",
    ] {
        let signed = signer.sign(example);
        assert_ne!(example, signed);
        assert_eq!(signer.unsign(&signed).unwrap(), example);
    }
}

/// `tests/signing/tests.py::TestSigner::test_unsign_detects_tampering`
#[test]
fn test_unsign_detects_tampering() {
    let signer = Signer::new("predictable-secret").unwrap();
    let signed = signer.sign("Another string");
    assert_eq!(signer.unsign(&signed).unwrap(), "Another string");
    for tampered in tamperings(&signed) {
        let err = signer.unsign(&tampered).unwrap_err();
        assert!(err.is_bad_signature(), "{tampered}: {err}");
    }
}

fn tamperings(s: &str) -> Vec<String> {
    vec![
        s.to_uppercase(),
        format!("{s}a"),
        format!("a{}", &s[1..]),
        s.replace(':', ""),
    ]
}

/// `tests/signing/tests.py::TestSigner::test_sign_unsign_object`
#[test]
fn test_sign_unsign_object() {
    let signer = Signer::new("predictable-secret").unwrap();
    for obj in [
        json!(["a", "list"]),
        json!("a string \u{2019}"),
        json!({"a": "dictionary"}),
    ] {
        for compress in [false, true] {
            let signed = signer.sign_object(&obj, compress).unwrap();
            assert_eq!(signer.unsign_object::<Value>(&signed).unwrap(), obj);
        }
    }
}

/// `tests/signing/tests.py::TestSigner::test_dumps_loads`
#[test]
fn test_dumps_loads() {
    for obj in [
        json!(["a", "list"]),
        json!("a string \u{2019}"),
        json!({"a": "dictionary"}),
    ] {
        for compress in [false, true] {
            let signed = dumps(&obj, KEY, DUMPS_SALT, compress).unwrap();
            let back: Value = loads(&signed, KEY, &[], DUMPS_SALT, None).unwrap();
            assert_eq!(back, obj);
        }
    }
}

/// `tests/signing/tests.py::TestSigner::test_decode_detects_tampering`
#[test]
fn test_decode_detects_tampering() {
    let value = json!({"foo": "bar", "baz": 1});
    let encoded = dumps(&value, KEY, DUMPS_SALT, false).unwrap();
    assert_eq!(
        loads::<Value>(&encoded, KEY, &[], DUMPS_SALT, None).unwrap(),
        value
    );
    for tampered in tamperings(&encoded) {
        let err = loads::<Value>(&tampered, KEY, &[], DUMPS_SALT, None).unwrap_err();
        assert!(err.is_bad_signature(), "{tampered}: {err}");
    }
}

/// `tests/signing/tests.py::TestSigner::test_works_with_non_ascii_keys`
#[test]
fn test_works_with_non_ascii_keys() {
    assert_eq!(
        Signer::new(b"\xe7").unwrap().sign("foo"),
        "foo:EE4qGC5MEKyQG5msxYA0sBohAxLC0BJf8uRhemh0BGU"
    );
}

/// `tests/signing/tests.py::TestSigner::test_valid_sep`
#[test]
fn test_valid_sep() {
    for sep in ["/", "*sep*", ","] {
        let signer = Signer::new("predictable-secret")
            .unwrap()
            .with_sep(sep)
            .unwrap();
        assert_eq!(
            signer.sign("foo"),
            format!("foo{sep}jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0")
        );
    }
}

/// `tests/signing/tests.py::TestSigner::test_invalid_sep`
#[test]
fn test_invalid_sep() {
    for sep in ["", "-", "abc", "[\\]^_`", "=\n"] {
        let err = Signer::new("k").unwrap().with_sep(sep).unwrap_err();
        assert!(matches!(err, SigningError::UnsafeSeparator(_)), "{sep:?}");
    }
    assert_eq!(
        Signer::new("k")
            .unwrap()
            .with_sep("-")
            .unwrap_err()
            .to_string(),
        "Unsafe Signer separator: \"-\" (cannot be empty or consist of only A-z0-9-_=)"
    );
    assert!(TimestampSigner::new("k").unwrap().with_sep("abc").is_err());
}

/// `tests/signing/tests.py::TestSigner::test_verify_with_non_default_key`
#[test]
fn test_verify_with_non_default_key() {
    let signed = Signer::new("secret").unwrap().sign("abc");
    let new_signer = Signer::new("newsecret")
        .unwrap()
        .with_fallback_keys(["othersecret", "secret"]);
    assert_eq!(new_signer.unsign(&signed).unwrap(), "abc");
}

/// `tests/signing/tests.py::TestSigner::test_sign_unsign_multiple_keys`
#[test]
fn test_sign_unsign_multiple_keys() {
    let signer = Signer::new("secret")
        .unwrap()
        .with_fallback_keys(["oldsecret"]);
    let signed = signer.sign("abc");
    assert_eq!(signer.unsign(&signed).unwrap(), "abc");
}

/// `tests/signing/tests.py::TestSigner::test_sign_unsign_ignore_secret_key_fallbacks`
#[test]
fn test_sign_unsign_ignore_secret_key_fallbacks() {
    let signed = Signer::new("oldsecret").unwrap().sign("abc");
    let signer = Signer::new("secret")
        .unwrap()
        .with_fallback_keys(Vec::<&str>::new());
    assert!(signer.unsign(&signed).unwrap_err().is_bad_signature());
}

/// `tests/signing/tests.py::TestTimestampSigner::test_timestamp_signer`
#[test]
fn test_timestamp_signer() {
    let signer = TimestampSigner::new("predictable-key").unwrap();
    let ts = signer.sign_at("hello", 123_456_789);
    assert_ne!(ts, Signer::new("predictable-key").unwrap().sign("hello"));
    assert_eq!(
        signer.unsign_at(&ts, None, at(123_456_789.0)).unwrap(),
        "hello"
    );

    let now = at(123_456_800.0);
    let secs = Duration::from_secs;
    assert_eq!(signer.unsign_at(&ts, Some(secs(12)), now).unwrap(), "hello");
    assert_eq!(signer.unsign_at(&ts, Some(secs(11)), now).unwrap(), "hello");
    let err = signer.unsign_at(&ts, Some(secs(10)), now).unwrap_err();
    assert!(matches!(err, SigningError::SignatureExpired { .. }));
    assert!(err.is_bad_signature());
    assert_eq!(err.to_string(), "Signature age 11.0 > 10 seconds");
}

/// `tests/signing/tests.py::TestBase62::test_base62`
#[test]
fn test_base62() {
    let mut cases = vec![
        -(10_i64.pow(10)),
        10_i64.pow(10),
        1_620_378_259,
        i64::MAX,
        i64::MIN,
    ];
    cases.extend(-100..100);
    for i in cases {
        assert_eq!(b62_decode(&b62_encode(i)).unwrap(), i, "{i}");
    }
    assert_eq!(b62_encode(T0), "1r31eq");
    assert_eq!(b62_encode(-61), "-z");
    assert_eq!(b62_decode("-").unwrap(), 0);
    assert!(b62_decode("").is_err());
    assert!(b62_decode("!").is_err());
    assert!(b62_decode("zzzzzzzzzzzzzzzzzzzzzz").is_err());
}

// ---- JSON compatibility -------------------------------------------------

#[test]
fn json_matches_python_ensure_ascii() {
    assert_eq!(
        json_dumps(&json!([
            "\u{e9}",
            "\u{2019}",
            "\u{1f600}",
            "\x7f\n\"\\\x01/"
        ]))
        .unwrap(),
        r#"["\u00e9","\u2019","\ud83d\ude00","\u007f\n\"\\\u0001/"]"#
    );
    assert_eq!(
        json_dumps(&json!({"b": [1, true, null], "a": {}})).unwrap(),
        r#"{"a":{},"b":[1,true,null]}"#
    );
}

#[test]
fn json_floats_match_python_repr() {
    for (v, repr) in [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1.5e16, "1.5e+16"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (123456789.125, "123456789.125"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.2345e-7, "1.2345e-07"),
        (1e300, "1e+300"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
    ] {
        assert_eq!(py_float_repr(v), repr);
    }
    assert_eq!(json_dumps(&[0.5f32]).unwrap(), "[0.5]");
}

#[test]
fn json_loads_reads_latin1_like_django() {
    // Raw UTF-8 "é" is two Latin-1 characters to Django.
    let v: String = json_loads("\"\u{e9}\"".as_bytes()).unwrap();
    assert_eq!(v, "\u{c3}\u{a9}");
    let v: String = json_loads(br#""\u00e9""#).unwrap();
    assert_eq!(v, "\u{e9}");
    // Python would accept these; they must at least be errors, not panics.
    assert!(json_loads::<Value>(br#""\ud800""#).is_err());
    assert!(json_loads::<Value>(b"[NaN]").is_err());
    assert!(json_loads::<Value>(b"").is_err());
}

// ---- bad input ----------------------------------------------------------

#[test]
fn truncated_and_reordered_values_are_rejected() {
    let signer = TimestampSigner::new(KEY).unwrap();
    let signed = signer
        .sign_object_at(&json!({"k": "v"}), false, T0)
        .unwrap();
    for n in 0..signed.len() {
        assert!(
            signer.unsign_object::<Value>(&signed[..n], None).is_err(),
            "{n}"
        );
    }
    let parts: Vec<&str> = signed.split(':').collect();
    let reordered = format!("{}:{}:{}", parts[1], parts[0], parts[2]);
    assert!(signer
        .unsign(&reordered, None)
        .unwrap_err()
        .is_bad_signature());
    assert_eq!(
        signer.unsign("", None).unwrap_err().to_string(),
        "No \":\" found in value"
    );
}

/// An empty `SECRET_KEY` lets anyone compute valid signatures, so every entry point that
/// signs or verifies refuses it (Django: `ImproperlyConfigured("The SECRET_KEY setting must
/// not be empty.")` on reading the setting).
#[test]
fn empty_key_signs_and_verifies_nothing() {
    assert!(matches!(Signer::new(b""), Err(SigningError::EmptyKey)));
    assert!(matches!(
        TimestampSigner::new(""),
        Err(SigningError::EmptyKey)
    ));
    assert!(matches!(
        dumps_at(&json!({"_auth_user_id": "1"}), b"", "salt", true, T0),
        Err(SigningError::EmptyKey)
    ));
    // A value an attacker signed with the empty key does not load either.
    let forged = format!("x:{}", Signer::new(b"k").unwrap().signature("x"));
    assert!(matches!(
        loads::<Value>(&forged, b"", &[], "salt", None),
        Err(SigningError::EmptyKey)
    ));
    // The cookie signer's "django.http.cookies" prefix would make the key non-empty: the
    // raw secret is checked before prefixing.
    assert!(matches!(
        get_cookie_signer(b"", &[], "django.contrib.messages"),
        Err(SigningError::EmptyKey)
    ));
    assert!(matches!(
        sign_cookie(b"", &[], "c", "v", "s"),
        Err(SigningError::EmptyKey)
    ));
    assert!(matches!(
        unsign_cookie(b"", &[], "c", "v:sig", "s", None, true),
        Err(SigningError::EmptyKey)
    ));
    assert_eq!(
        SigningError::EmptyKey.to_string(),
        "The SECRET_KEY setting must not be empty."
    );
}

#[test]
fn wrong_salt_or_key_is_rejected_and_fallback_accepted() {
    let signed = dumps_at(&json!(1), KEY, "salt-a", false, T0).unwrap();
    assert!(loads::<Value>(&signed, KEY, &[], "salt-b", None)
        .unwrap_err()
        .is_bad_signature());
    assert!(loads::<Value>(&signed, b"other", &[], "salt-a", None)
        .unwrap_err()
        .is_bad_signature());
    let v: Value = loads(&signed, b"new-key", &[b"older", KEY], "salt-a", None).unwrap();
    assert_eq!(v, json!(1));
    let sig = signed.rsplit(':').next().unwrap();
    assert_eq!(
        loads::<Value>(&signed, b"other", &[], "salt-a", None)
            .unwrap_err()
            .to_string(),
        format!("Signature \"{sig}\" does not match")
    );
}

#[test]
fn expired_values_are_rejected() {
    let signed = dumps_at(&json!("x"), KEY, DUMPS_SALT, false, T0).unwrap();
    let max = Some(Duration::from_secs(60));
    let ok: Value = loads_at(&signed, KEY, &[], DUMPS_SALT, max, at(T0 as f64 + 60.0)).unwrap();
    assert_eq!(ok, json!("x"));
    let err =
        loads_at::<Value>(&signed, KEY, &[], DUMPS_SALT, max, at(T0 as f64 + 60.5)).unwrap_err();
    assert!(
        matches!(err, SigningError::SignatureExpired { .. }),
        "{err}"
    );
    // Real clock: 2023 is long past.
    assert!(loads::<Value>(&signed, KEY, &[], DUMPS_SALT, max).is_err());
}

#[test]
fn garbage_payloads_are_errors_not_panics() {
    let signer = TimestampSigner::new(KEY).unwrap();
    let sign = |payload: &str| signer.sign_at(payload, T0);
    for payload in [
        "",
        ".",
        "!!!!",
        "a",
        "abcde",
        ".abcde",
        ".eJwLyc8r",
        "\u{e9}\u{e9}",
        "e30",
        "W10",
    ] {
        let result = signer.unsign_object::<Vec<u8>>(&sign(payload), None);
        // "W10" is "[]", which is a valid Vec<u8>.
        if payload != "W10" {
            assert!(result.is_err(), "{payload:?} gave {result:?}");
        }
    }
    // A correctly signed value whose timestamp is not base62.
    let plain = Signer::new(KEY)
        .unwrap()
        .with_salt(TimestampSigner::DEFAULT_SALT);
    assert!(matches!(
        signer.unsign(&plain.sign("value-without-ts"), None),
        Err(SigningError::Malformed(_))
    ));
    assert!(matches!(
        signer.unsign(&plain.sign("v:!!"), None),
        Err(SigningError::Malformed(_))
    ));
    // Non-ASCII and non-UTF-8-looking input is handled as plain text.
    assert!(signer.unsign("\u{e9}:\u{e9}:\u{e9}", None).is_err());
    assert!(signer.unsign("\0:\0", None).is_err());
}

#[test]
fn truncated_zlib_is_an_error() {
    let data = json_dumps(&vec!["abc"; 100]).unwrap();
    let encoded = Signer::encode_payload(data.as_bytes(), true);
    assert!(encoded.starts_with('.'));
    let raw = B64.decode(&encoded[1..]).unwrap();
    for cut in [2, raw.len() / 2, raw.len() - 1] {
        let truncated = format!(".{}", B64.encode(&raw[..cut]));
        let err = Signer::new(KEY)
            .unwrap()
            .decode_payload(&truncated)
            .unwrap_err();
        assert!(matches!(err, SigningError::BadPayload(_)), "{cut}: {err}");
    }
}

#[test]
fn decompression_is_capped() {
    let big = vec![b' '; 1024 * 1024];
    let signer = Signer::new(KEY)
        .unwrap()
        .with_max_decompressed_size(64 * 1024);
    let signed = signer.sign_bytes(&big, true);
    assert!(signed.len() < 5000);
    assert!(matches!(
        signer.unsign_bytes(&signed),
        Err(SigningError::PayloadTooLarge { limit: 65536 })
    ));
    let roomy = Signer::new(KEY).unwrap();
    assert_eq!(roomy.unsign_bytes(&signed).unwrap(), big);
    // Exactly at the limit is fine.
    let exact = Signer::new(KEY)
        .unwrap()
        .with_max_decompressed_size(big.len());
    assert_eq!(exact.unsign_bytes(&signed).unwrap().len(), big.len());
}

#[test]
fn compression_only_when_it_saves_two_bytes() {
    assert!(!Signer::encode_payload(b"[1]", true).starts_with('.'));
    assert!(Signer::encode_payload(&[b'a'; 100], true).starts_with('.'));
}

#[test]
fn debug_does_not_leak_keys() {
    let signer = TimestampSigner::new("super-secret-key")
        .unwrap()
        .with_fallback_keys(["old-secret"]);
    let shown = format!("{signer:?}");
    assert!(!shown.contains("super-secret"), "{shown}");
    assert!(!shown.contains("old-secret"), "{shown}");
    assert!(shown.contains("django.core.signing.TimestampSigner"));
}
