"""Differential fuzzing against the live reference Django site: a seeded generator of random but
valid HTTP requests (methods, paths with escapes, dots and slashes, hosts, forwarded headers,
conditional and encoding headers, cookies, CSRF tokens of every shape, form bodies) sent to
Django and to the example site, both running ../shared/conformance/settings.toml; compares the
status, the headers middleware set, the cookie names and the body.

usage: fuzz.py DJANGO_PORT OURS_PORT [--count N] [--seed S] [--show K]

Exit 1 on any difference. What is not compared, and why:
* random values: CSRF tokens in the /form/ body (masked per request, so its ETag too) and in
  Set-Cookie values,
  the gzip body (Django pads it with a random file name); their lengths are compared instead;
* `Transfer-Encoding` on HEAD (uvicorn announces chunked for a streamed body, hyper no framing).
"""
import http.client, random, sys, urllib.parse
from probe import HDRS

METHODS = ["GET"] * 6 + ["POST"] * 4 + ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]
ROUTES = ["/", "/hello/", "/big/", "/stream/", "/etag/", "/form/", "/csrf-exempt/",
          "/session/set/", "/session/get/", "/forbidden/", "/missing/", "/bad/", "/frame-ok/",
          "/messages/add/", "/messages/show/", "/no-slash", "/error/"]
HOSTS = ["testserver", "TESTSERVER", "testserver.", "testserver:80", "testserver:8000",
         "foo.example.com", "example.com", "[::1]", "evil.com", "testserver:99999", "a" * 70,
         "foo.example.com:8080", "Testserver:443", "bad host", "127.0.0.1"]
SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"
TOKENS = [SECRET, SECRET[:-1], SECRET + "x", "0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoq",
          "0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoX", "!" * 32, "", "a" * 64]
REFERERS = ["https://testserver/x", "http://testserver/", "https://evil.example/x", "https://[bad",
            "https://trusted.example/y", "https://sub.trusted.example/", "//testserver/", "garbage"]
ORIGINS = ["https://testserver", "http://testserver", "null", "https://sub.trusted.example",
           "http://evil.example", "https://testserver:443"]
DATES = ["Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:27:00 GMT", "garbage",
         "Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015", "Thu, 01 Jan 2099 00:00:00 GMT"]
ETAGS = ['"v1-fixed"', 'W/"v1-fixed"', "*", '"other"', '"a", "v1-fixed"', "junk", '""']
ENCODINGS = ["gzip", "GZIP", "deflate", "br, gzip", "gzip;q=0", "x-gzip", "identity", "*", ""]
WORDS = ["a", "b", "k", "text", "é", "%", "&", "=", "x y", "€", "<b>", "", "1", "very-long-" * 5]


def escape_path(rng, path):
    """The same route spelled as a client might: percent-escapes, doubled or missing slashes,
    dot segments, a query string."""
    choice = rng.random()
    if choice < 0.15 and path.endswith("/") and len(path) > 1:
        path = path[:-1]  # APPEND_SLASH
    elif choice < 0.25:
        path = path.replace("/", "//", 1)
    elif choice < 0.35:
        path = "".join(f"%{ord(c):02X}" if c.isalpha() and rng.random() < 0.3 else c for c in path)
    elif choice < 0.4:
        path = "/./" + path.lstrip("/")
    elif choice < 0.45:
        path = path + rng.choice(["%E9", "%C3%A9", "%ZZ", "é", "%2F", ";x"])
    if rng.random() < 0.5:
        pairs = [(rng.choice(["k", "a", "b", "text", "next"]), rng.choice(WORDS)) for _ in range(rng.randint(1, 3))]
        path += "?" + urllib.parse.urlencode(pairs)
    return path


def generate(rng):
    method = rng.choice(METHODS)
    path = escape_path(rng, rng.choice(ROUTES))
    headers = {"Host": rng.choice(HOSTS) if rng.random() < 0.3 else "testserver"}
    cookies = []
    if rng.random() < 0.6:
        cookies.append("csrftoken=" + rng.choice(TOKENS))
    if rng.random() < 0.3:
        cookies.append("sessionid=" + rng.choice(["abc", "e30:1r31eq:AAAA", "", ".eJy:bad:sig"]))
    if rng.random() < 0.2:
        cookies.append("messages=" + rng.choice(["garbage", "[]", "W10:1r31eq:bad"]))
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    optional = [
        ("X-CSRFToken", TOKENS), ("Referer", REFERERS), ("Origin", ORIGINS),
        ("X-Forwarded-Proto", ["https", "http", "HTTPS", "https, http"]),
        ("If-None-Match", ETAGS), ("If-Match", ETAGS), ("If-Modified-Since", DATES),
        ("If-Unmodified-Since", DATES), ("Accept-Encoding", ENCODINGS),
    ]
    for name, values in optional:
        if rng.random() < 0.25:
            headers[name] = rng.choice(values)
    body = b""
    if method in ("POST", "PUT", "PATCH") and rng.random() < 0.7:
        fields = [("csrfmiddlewaretoken", rng.choice(TOKENS))] if rng.random() < 0.6 else []
        fields += [(rng.choice(WORDS), rng.choice(WORDS)) for _ in range(rng.randint(0, 3))]
        body = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return method, path, headers, body


def send(port, method, path, headers, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    if body:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body or None)
    r = c.getresponse()
    data = r.read()
    got = {k: r.getheader(k) for k in HDRS}
    got.pop("transfer-encoding", None) if method == "HEAD" else None
    cookies = r.msg.get_all("set-cookie") or []
    got["set-cookie"] = ";".join(sorted(x.split("=")[0] for x in cookies)) or None
    c.close()
    return r.status, got, data


def comparable(method, path, result):
    status, headers, body = result
    headers = dict(headers)
    if urllib.parse.unquote(path.split("?")[0]).rstrip("/").endswith("form") and method != "POST":
        # The masked CSRF token in the page differs per request, and so does the ETag
        # ConditionalGetMiddleware computes from the page.
        body = len(body)
        headers.pop("etag", None)
    if headers.get("content-encoding") == "gzip":
        headers.pop("content-length", None)
        body = None
    return status, headers, body


def main():
    args = sys.argv[1:]
    django_port, ours_port = int(args[0]), int(args[1])
    opts = dict(zip(args[2::2], args[3::2]))
    count, seed, show = int(opts.get("--count", 2000)), int(opts.get("--seed", 1)), int(opts.get("--show", 10))
    rng = random.Random(seed)
    kinds = {}
    for i in range(count):
        req = generate(rng)
        try:
            a = comparable(req[0], req[1], send(django_port, *req))
        except Exception as e:  # Django's side refused the request: nothing to compare
            a = ("error", type(e).__name__)
        try:
            b = comparable(req[0], req[1], send(ours_port, *req))
        except Exception as e:
            b = ("error", type(e).__name__)
        if a != b:
            diff = [k for k in ("status", "headers", "body") if len(a) == 3 and len(b) == 3 and a[("status", "headers", "body").index(k)] != b[("status", "headers", "body").index(k)]]
            if diff == ["headers"]:
                diff = ["headers:" + ",".join(k for k in a[1] if a[1].get(k) != b[1].get(k))]
            kind = " ".join(diff) or "error"
            kinds.setdefault(kind, []).append((req, a, b))
    differences = sum(len(v) for v in kinds.values())
    for kind, items in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        print(f"DIFF {kind}: {len(items)} requests")
        for req, a, b in items[:show]:
            print("  ", req[0], req[1], req[2], req[3][:60])
            print("     django", a)
            print("     ours  ", b)
    print(f"differential fuzz: seed {seed}, {count} requests, {differences} differences")
    print(f"{count - differences} passed, {differences} failed")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
