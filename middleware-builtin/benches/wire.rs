//! Wire formats against Django: signed-cookie sessions, CSRF token masking and checking, and the
//! messages cookie, on the inputs of `bench/wire_inputs.json` that `bench/django_wire.py` times
//! with Django's own functions. Run both with `bench/wire.sh` (it prints the ratios).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use middleware_builtin::csrf::{does_token_match, mask_cipher_secret};
use middleware_builtin::messages::{decode_cookie, encode_cookie, Message, COOKIE_SALT};
use middleware_builtin::sessions::{SessionData, SIGNED_COOKIES_SALT};
use middleware_core::signing::{self, get_cookie_signer};
use serde_json::Value;

fn inputs() -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "bench",
        "wire_inputs.json",
    ]
    .iter()
    .collect();
    serde_json::from_str(&std::fs::read_to_string(path).expect("read wire_inputs.json")).unwrap()
}

fn wire(c: &mut Criterion) {
    let inputs = inputs();
    let secret = inputs["secret_key"].as_str().unwrap().as_bytes().to_vec();
    // Django's signed_cookies engine: dumps(compress=True) to write, loads(max_age) to read.
    let session: SessionData = serde_json::from_value(inputs["session"].clone()).unwrap();
    let max_age = Some(Duration::from_secs(1_209_600));
    let signed = signing::dumps(&session, &secret, SIGNED_COOKIES_SALT, true).unwrap();
    assert!(
        signed.starts_with('.'),
        "the session value is compressed, as Django's is"
    );
    let mut g = c.benchmark_group("wire");
    g.bench_function("session_sign", |b| {
        b.iter(|| signing::dumps(black_box(&session), &secret, SIGNED_COOKIES_SALT, true).unwrap())
    });
    g.bench_function("session_unsign", |b| {
        b.iter(|| {
            signing::loads::<SessionData>(
                black_box(&signed),
                &secret,
                &[],
                SIGNED_COOKIES_SALT,
                max_age,
            )
            .unwrap()
        })
    });
    // The parts of session_sign, to see where its time goes.
    let json = signing::json_dumps(&session).unwrap();
    g.bench_function("part_json_dumps", |b| {
        b.iter(|| signing::json_dumps(black_box(&session)).unwrap())
    });
    g.bench_function("part_compress_b64", |b| {
        b.iter(|| signing::Signer::encode_payload(black_box(json.as_bytes()), true))
    });
    let payload = signing::Signer::encode_payload(json.as_bytes(), true);
    let signer = signing::TimestampSigner::new(&secret)
        .unwrap()
        .with_salt(SIGNED_COOKIES_SALT);
    g.bench_function("part_sign", |b| b.iter(|| signer.sign(black_box(&payload))));
    g.bench_function("session_roundtrip", |b| {
        b.iter(|| {
            let v =
                signing::dumps(black_box(&session), &secret, SIGNED_COOKIES_SALT, true).unwrap();
            signing::loads::<SessionData>(&v, &secret, &[], SIGNED_COOKIES_SALT, max_age).unwrap()
        })
    });

    let csrf_secret = inputs["csrf_secret"].as_str().unwrap().to_owned();
    let csrf_token = inputs["csrf_token"].as_str().unwrap().to_owned();
    assert!(does_token_match(&csrf_token, &csrf_secret));
    g.bench_function("csrf_mask", |b| {
        b.iter(|| mask_cipher_secret(black_box(&csrf_secret)).unwrap())
    });
    g.bench_function("csrf_check", |b| {
        b.iter(|| assert!(does_token_match(black_box(&csrf_token), &csrf_secret)))
    });
    g.bench_function("csrf_roundtrip", |b| {
        b.iter(|| {
            let t = mask_cipher_secret(black_box(&csrf_secret)).unwrap();
            assert!(does_token_match(&t, &csrf_secret));
        })
    });

    let signer = get_cookie_signer(&secret, &[], COOKIE_SALT).unwrap();
    let messages: Vec<Message> = inputs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            Message::new(
                i32::try_from(m["level"].as_i64().unwrap()).unwrap(),
                m["message"].as_str().unwrap(),
                m["extra_tags"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let cookie = encode_cookie(&signer, &messages, false).unwrap();
    assert_eq!(
        decode_cookie(&signer, &cookie).unwrap().0.len(),
        messages.len()
    );
    g.bench_function("messages_encode", |b| {
        b.iter(|| encode_cookie(&signer, black_box(&messages), false).unwrap())
    });
    g.bench_function("messages_decode", |b| {
        b.iter(|| decode_cookie(&signer, black_box(&cookie)).unwrap())
    });
    g.bench_function("messages_roundtrip", |b| {
        b.iter(|| {
            let v = encode_cookie(&signer, black_box(&messages), false).unwrap();
            decode_cookie(&signer, &v).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = wire
}
criterion_main!(benches);
