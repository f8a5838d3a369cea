#!/usr/bin/env python3
"""Soak load for the example site (bench/soak.sh starts the site and runs this).

Mixed traffic from WORKERS threads, each with its own keep-alive connection and cookies, for
DURATION seconds: pages (GET /), form posts (GET /form/ for the CSRF token and cookie, then POST
/form/), and logins (GET the login page, POST the demo user's credentials, GET /private/, POST
/accounts/logout/) as a small share, since each runs PBKDF2 (1.5 M iterations). Every
SAMPLE seconds the server's resident memory (VmRSS of PID) is printed with the counts so far.
An error is a connection failure or an answer other than the one expected; the summary gives
requests, errors and latency percentiles per kind, and the RSS at start, peak and end.
--login-share raises the share of logins (a login flood); a login answered 503 by the hashing
pool's queue timeout is counted apart, as a refusal, not an error.
"""

import argparse
import http.client
import random
import re
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Client:
    """One keep-alive connection with a cookie jar; reconnects after a failure."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": "localhost"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        for value in r.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie()
            c.load(value)
            for k, m in c.items():
                if m["max-age"] == "0" or m.value == "":
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = m.value
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, data

    def token(self, path):
        status, data = self.request("GET", path)
        m = TOKEN.search(data)
        if status != 200 or not m:
            raise RuntimeError(f"GET {path}: {status}, no token")
        return m.group(1).decode()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.errors = defaultdict(int)
        self.error_kinds = defaultdict(int)

    def record(self, kind, seconds, error=None):
        with self.lock:
            self.latency[kind].append(seconds)
            if error:
                self.errors[kind] += 1
                self.error_kinds[error[:80]] += 1

    def totals(self):
        with self.lock:
            return sum(len(v) for v in self.latency.values()), sum(self.errors.values())


def page(c):
    status, _ = c.request("GET", "/")
    if status != 200:
        raise RuntimeError(f"GET /: {status}")


def form_post(c):
    token = c.token("/form/")
    status, data = c.request("POST", "/form/", body=f"csrfmiddlewaretoken={token}&field=value",
                             headers={"Referer": "http://localhost/form/"})
    if status != 200 or data != b"ok":
        raise RuntimeError(f"POST /form/: {status}")


def login(c):
    token = c.token("/accounts/login/")
    status, _ = c.request("POST", "/accounts/login/",
                          body=f"csrfmiddlewaretoken={token}&username=demo&password=demo-password",
                          headers={"Referer": "http://localhost/accounts/login/"})
    if status == 503:
        raise Refused()
    if status != 302:
        raise RuntimeError(f"POST /accounts/login/: {status}")
    status, _ = c.request("GET", "/private/")
    if status != 200:
        raise RuntimeError(f"GET /private/ after login: {status}")
    token = c.token("/private/")
    status, _ = c.request("POST", "/accounts/logout/", body=f"csrfmiddlewaretoken={token}",
                          headers={"Referer": "http://localhost/private/"})
    if status not in (200, 302):
        raise RuntimeError(f"POST /accounts/logout/: {status}")


class Refused(Exception):
    """503 with Retry-After: the hashing pool's queue timeout passed (a refusal, not an error)."""


def mix(login_share):
    """Pages and form posts in the soak's 70:28 ratio around `login_share` of logins."""
    rest = 1.0 - login_share
    return [(page, "page", 0.70 / 0.98 * rest), (form_post, "form", 0.28 / 0.98 * rest),
            (login, "login", login_share)]


MIX = mix(0.02)


def worker(port, deadline, stats, seed):
    rng = random.Random(seed)
    c = Client(port)
    while time.monotonic() < deadline:
        x = rng.random()
        for fn, kind, share in MIX:
            if x < share:
                break
            x -= share
        started = time.monotonic()
        try:
            fn(c)
            stats.record(kind, time.monotonic() - started)
        except Refused:
            stats.record("login refused (503)", time.monotonic() - started)
        except Exception as e:  # noqa: BLE001 - every failure is counted
            stats.record(kind, time.monotonic() - started, f"{kind}: {type(e).__name__}: {e}")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))] * 1000 if v else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--login-share", type=float, default=0.02,
                    help="share of operations that are logins (the issue's flood: 2/7)")
    a = ap.parse_args()
    global MIX
    MIX = mix(a.login_share)

    stats = Stats()
    start = time.monotonic()
    deadline = start + a.duration
    rss = [rss_kib(a.pid)]
    print(f"soak: {a.duration:.0f} s, {a.workers} workers, mix "
          + ", ".join(f"{k} {s:.0%}" for _, k, s in MIX) + f"; RSS at start {rss[0] / 1024:.1f} MiB",
          flush=True)
    threads = [threading.Thread(target=worker, args=(a.port, deadline, stats, a.seed * 1000 + i))
               for i in range(a.workers)]
    for t in threads:
        t.start()
    while time.monotonic() < deadline:
        time.sleep(min(a.sample, max(0.0, deadline - time.monotonic())))
        rss.append(rss_kib(a.pid))
        n, errors = stats.totals()
        print(f"  t={time.monotonic() - start:6.0f}s rss={rss[-1] / 1024:.1f} MiB "
              f"requests={n} errors={errors}", flush=True)
    for t in threads:
        t.join()
    rss.append(rss_kib(a.pid))
    elapsed = time.monotonic() - start
    n, errors = stats.totals()
    print(f"total: {n} operations in {elapsed:.0f} s ({n / elapsed:.0f}/s), {errors} errors")
    for kind in [k for _, k, _ in MIX] + ["login refused (503)"]:
        lat = stats.latency[kind]
        if not lat and kind not in [k for _, k, _ in MIX]:
            continue
        print(f"  {kind:6} n={len(lat):7} ({len(lat) / elapsed:.2f}/s) errors={stats.errors[kind]:5} "
              f"p50={pct(lat, 0.50):7.1f} ms p99={pct(lat, 0.99):7.1f} ms max={pct(lat, 1.0):7.1f} ms")
    for what, count in sorted(stats.error_kinds.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  error x{count}: {what}")
    print(f"rss: start {rss[0] / 1024:.1f} MiB, peak {max(rss) / 1024:.1f} MiB, "
          f"end {rss[-1] / 1024:.1f} MiB ({len(rss)} samples)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
