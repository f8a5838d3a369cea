"""Differential check against the live reference Django site (../shared/conformance/django):
the same requests to Django and to the example site (both run with the conformance settings),
comparing status, the headers middleware set, cookie names and body length. These requests are
not in the recorded scenarios: the scenarios are a sample, the behaviour to match is Django's.

usage: probe.py DJANGO_PORT OURS_PORT

Known, accepted differences (HTTP framing, not middleware behaviour):
* HEAD: uvicorn announces `Transfer-Encoding: chunked` for a streamed body, hyper sends no
  framing header on HEAD.
* gzip bodies: Django pads the gzip header with a random file name (BREACH mitigation), so the
  compressed length differs from request to request; it is not compared.
"""
import http.client, sys
CASES = [
 ("GET","/stream/",{"Accept-Encoding":"gzip"}),
 ("HEAD","/stream/",{}),
 ("OPTIONS","/",{}),
 ("GET","/big/",{"Accept-Encoding":"deflate"}),
 ("GET","/big/",{"Accept-Encoding":"br, gzip"}),
 ("GET","/etag/",{"If-None-Match":'W/"v1-fixed"'}),
 ("GET","/etag/",{"If-Match":'"v1-fixed"'}),
 ("GET","/etag/",{"If-Match":'"other"'}),
 ("GET","/etag/",{"If-Unmodified-Since":"Wed, 21 Oct 2015 07:27:00 GMT"}),
 ("GET","/etag/",{"If-Modified-Since":"garbage"}),
 ("POST","/form/",{"Origin":"https://testserver","X-Forwarded-Proto":"https","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"Origin":"http://testserver","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"Origin":"https://sub.trusted.example","X-Forwarded-Proto":"https","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"X-Forwarded-Proto":"https","Referer":"https://trusted.example/x","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"X-Forwarded-Proto":"https","Referer":"https://testserver:443/x","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("GET","/session/get/?k=a",{"Cookie":"sessionid=abc"}),
 ("GET","/session/set/?a=1&a=2&b=%E2%82%AC",{}),
 ("GET","/messages/show/",{"Cookie":"messages=garbage"}),
 ("GET","/hello",{"Host":"TESTSERVER"}),
 ("GET","/hello",{"Host":"testserver."}),
 ("GET","/hello",{"Host":"foo.example.com:8080"}),
 ("GET","/hello",{"Host":"[::1]"}),
 ("GET","/hello",{"Host":"example.com"}),
 ("GET","//evil.com/hello",{}),
 ("GET","/no-slash/",{}),
 ("GET","/hell%6F",{}),
 ("GET","/hell%6F?a=%20b&c=%C3%A9",{}),
 ("GET","/missing",{}),
 ("PUT","/hello",{}),
 ("GET","/hello/?%ZZ",{}),
 ("GET","/frame-ok",{}),
 ("DELETE","/csrf-exempt/",{}),
 ("GET","/forbidden/",{"X-Forwarded-Proto":"https"}),
 ("POST","/form/",{"Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoq"}),
 ("POST","/form/",{"Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoX"}),
 ("POST","/form/",{"Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF; csrftoken=short","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"X-Forwarded-Proto":"https","Referer":"http://testserver/","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"X-Forwarded-Proto":"https","Referer":"https://[bad","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("POST","/form/",{"Origin":"null","Cookie":"csrftoken=abcdefghijklmnopqrstuvwxyzABCDEF","X-CSRFToken":"abcdefghijklmnopqrstuvwxyzABCDEF"}),
 ("PATCH","/form/",{}),
 ("GET","/session/get/?k=a",{"Cookie":"sessionid=e30:1r31eq:AAAA"}),
 ("GET","/messages/add/?text=%3Cb%3E",{}),
 ("GET","/etag/",{"If-None-Match":"*"}),
 ("GET","/etag/",{"If-None-Match":'"a", "v1-fixed", junk'}),
 ("GET","/stream/",{"If-None-Match":"*"}),
 ("GET","/",{"X-Forwarded-Proto":"https, http"}),
 ("GET","/",{"X-Forwarded-Proto":"HTTPS"}),
 ("GET","/big/",{"Accept-Encoding":"x-gzip"}),
 ("GET","/big/",{"Accept-Encoding":"GZIP"}),
 ("GET","/hello/",{"Host":"a"*300}),
 ("GET","/hello/",{"Host":"testserver:99999"}),
 ("TRACE","/hello/",{}),
]
HDRS=["content-type","content-length","content-encoding","location","vary","etag","last-modified","cache-control","x-frame-options","strict-transport-security","set-cookie","x-custom-header","x-status","transfer-encoding"]
def run(port, m, p, h):
    c=http.client.HTTPConnection("127.0.0.1",port,timeout=5)
    hh={"Host":"testserver"}; hh.update(h)
    c.putrequest(m,p,skip_host=True,skip_accept_encoding=True)
    for k,v in hh.items(): c.putheader(k,v)
    c.endheaders()
    r=c.getresponse(); body=r.read()
    got={k:r.getheader(k) for k in HDRS}
    if got.get("set-cookie"):
        got["set-cookie"]=";".join(sorted(x.split("=")[0] for x in r.msg.get_all("set-cookie")))
    return r.status, got, (len(body) if m!="HEAD" else 0), body[:80]
def comparable(method, result):
    status, headers, length, _ = result
    headers = dict(headers)
    if method == "HEAD":
        headers.pop("transfer-encoding", None)
    if headers.get("content-encoding") == "gzip":
        headers.pop("content-length", None)
        length = None
    return status, headers, length

def main():
    django_port, ours_port = int(sys.argv[1]), int(sys.argv[2])
    failed = 0
    for m, p, h in CASES:
        a = run(django_port, m, p, h)
        b = run(ours_port, m, p, h)
        if comparable(m, a) != comparable(m, b):
            failed += 1
            print("FAIL", m, p, h)
            print("  django", a[0], {k: v for k, v in a[1].items() if v}, a[2], a[3])
            print("  ours  ", b[0], {k: v for k, v in b[1].items() if v}, b[2], b[3])
        else:
            print("PASS", m, p, h)
    print(f"{len(CASES) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
