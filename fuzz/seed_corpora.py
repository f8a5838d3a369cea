#!/usr/bin/env python3
"""Writes the seed inputs of fuzz/corpus/<target>/ (re-run after adding a target; the fuzzer
adds what it finds beside them). Signed seeds use Django's algorithm with the fuzz key, so the
fuzzer starts past the signature check."""
import base64, hashlib, hmac, json, os, pickle, sys, zlib

KEY = b"fuzzing-key-not-a-secret-0123456789abcdefghijklmnop"
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def sig(value, salt, key=KEY):
    k = hashlib.sha256((salt + "signer").encode() + key).digest()
    return b64(hmac.new(k, value.encode(), hashlib.sha256).digest())

def b62(n):
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 62); s = chars[r] + s
        if n == 0: return s

def signed(value, salt, key=KEY): return f"{value}:{sig(value, salt, key)}"

def ts_signed_obj(obj, salt, compress=False, key=KEY, t=1_800_000_000):
    data = json.dumps(obj, separators=(",", ":")).encode()
    payload = b64(data)
    if compress:
        z = zlib.compress(data)
        if len(z) < len(data) - 1: payload = "." + b64(z)
    value = f"{payload}:{b62(t)}"
    return signed(value, salt, key)

seeds = {
    "cookie_header": ["sessionid=abc; csrftoken=xyz", 'a="b\\073c"; a=second; =empty; ;;',
                      "name=\"quoted \\\"value\\\"\"; x=\u00e9", "keebler=E=mc2; L=\"a;b\""],
    "signed_value": [signed("hello", "django.core.signing.Signer"), signed("v", "fuzz"),
                     signed(f"hello:{b62(1_800_000_000)}", "fuzz"), "no-separator", "a:b:c"],
    "signed_object": [ts_signed_obj({"a": [1, 2.5, None, True, "\u00e9"]}, "fuzz"),
                      ts_signed_obj({"k": "v" * 200}, "fuzz", compress=True),
                      ts_signed_obj({"_auth_user_id": "1"}, "django.contrib.sessions.backends.signed_cookies", compress=True),
                      '{"a": 1}', "[[1,2],[3]]", "x" * 64],
    "messages_cookie": ['[["__json_message",0,20,"hi"],["__json_message",1,30,"x","tag"]]',
                        '[["__json_message",0,20,"a"],"__messagesnotfinished__"]', "[]", "{}"],
    "csrf_token": ["a" * 32, "A1" * 32, "abcdefghijklmnopqrstuvwxyzABCDEF", "bad token!", ""],
    "host": ["example.com", "www.example.com:8080", "[::1]:8000", "EXAMPLE.ORG.", "a.example.org",
             "example.com:80:80", "[::1", "évil.com", "127.0.0.1:"],
    "etags": ['"abc", W/"def", *', "*", 'W/"x"', '"unterminated', ',,,"a",'],
    "http_date": ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                  "Sun Nov  6 08:49:37 1994", "Mon, 32 Jan 2000 00:00:00 GMT", "Sat, 01 Jan 0000 00:00:00 GMT"],
    "accept_language": ["en-US,en;q=0.9,fr;q=0.8", "*", "pt-br;q=1.0, de;q=0.", "zh-Hant-TW;q=0.5,es-419",
                        "en;q=2", "x" * 100],
    "multipart": ["token-value\nfield-a", "--fuzzb\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\nabc\r\n--fuzzb--\r\n",
                  "--fuzzb\r\ncontent-disposition: form-data; name=a; filename=\"x\"\r\n\r\nfile\r\n--fuzzb\r\n\r\n", "\r\n--fuzzb\n\n\n", ""],
    "urlencoded": ["a=1&b=2&a=3", "a=%ZZ&b=%e9&+=+", "&&=&", "k=v;x=y", "%C3%A9=%C3%A9"],
    "redirect_url": ["/next/", "//evil.com", "\\\\evil.com", "http://testserver/x", "https://evil.com",
                     "///evil.com", "http:evil.com", " /ok", "\x01//evil.com", "javascript:alert(1)"],
    "settings_file": ['SECRET_KEY = "k"\nALLOWED_HOSTS = ["*"]\nMIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]',
                      'DEBUG = true\nSESSION_ENGINE = "nope"\nMIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]',
                      "MIDDLEWARE = 3", "SECURE_HSTS_SECONDS = -1\nCSRF_TRUSTED_ORIGINS = [\"example.com\"]",
                      'SECRET_KEY = { env = "X" }', "[section]\nx = 1"],
    "request": ["GET /\nHost: testserver\nCookie: sessionid=x; csrftoken=y\nAccept-Language: fr\n\n",
                "GET /big/\nAccept-Encoding: gzip, br;q=0\nIf-None-Match: \"x\", W/\"y\"\n\n",
                "POST /form/\nContent-Type: application/x-www-form-urlencoded\nCookie: csrftoken=" + "a" * 32 + "\nX-CSRFToken: " + "a" * 32 + "\n\ntext=hi&x=%e9",
                "GET /item/12\n\n", "GET /fr/%2e%2e/%C3%A9?q=%ZZ\nHost: www.example.com\n\n",
                "HEAD //evil.com/\nHost: testserver\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\n\n",
                "OPTIONS *\n\n", "GET /\nHost: evil.com\n\n"],
}
seeds["pickle"] = [pickle.dumps({"a": 1, "b": [1, 2.5, None, "x"], "c": {"d": True}}, protocol=p) for p in range(0, 6)] + [b"\x80\x04garbage", b""]

for target, items in seeds.items():
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    for i, item in enumerate(items):
        data = item if isinstance(item, bytes) else item.encode()
        with open(os.path.join(d, f"seed-{i:02d}"), "wb") as f:
            f.write(data)
print(f"wrote seeds for {len(seeds)} targets under {root}", file=sys.stderr)
