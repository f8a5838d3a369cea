"""Times Django 6.1.3's own wire-format functions on the inputs of bench/wire_inputs.json, for
comparison with middleware-builtin/benches/wire.rs (run both with bench/wire.sh).

Prints one line per operation: `<name> <nanoseconds per operation>`.
"""

import json
import os
import sys
import timeit

import django
from django.conf import settings

HERE = os.path.dirname(os.path.abspath(__file__))


def best_ns(fn, min_time=1.0):
    """Best of 5 repeats of a loop sized to take about min_time/5 seconds, in ns per call."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * (min_time / 5) / 0.2))
    return min(timer.repeat(repeat=5, number=number)) / number * 1e9


def main():
    with open(os.path.join(HERE, "wire_inputs.json"), encoding="utf-8") as fh:
        inputs = json.load(fh)
    settings.configure(
        SECRET_KEY=inputs["secret_key"],
        INSTALLED_APPS=["django.contrib.sessions", "django.contrib.messages"],
        DATABASES={},
    )
    django.setup()

    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.contrib.sessions.serializers import JSONSerializer
    from django.core import signing
    from django.http import HttpRequest
    from django.middleware.csrf import _does_token_match, _mask_cipher_secret

    # What django.contrib.sessions.backends.signed_cookies.SessionStore does to write
    # (_get_session_key) and to read (load).
    salt = "django.contrib.sessions.backends.signed_cookies"
    session = inputs["session"]

    def session_sign():
        return signing.dumps(session, compress=True, salt=salt, serializer=JSONSerializer)

    signed = session_sign()
    assert signed.startswith("."), "compressed"

    def session_unsign():
        return signing.loads(signed, serializer=JSONSerializer, max_age=1209600, salt=salt)

    assert session_unsign() == session

    def session_roundtrip():
        return signing.loads(session_sign(), serializer=JSONSerializer, max_age=1209600, salt=salt)

    secret = inputs["csrf_secret"]
    token = inputs["csrf_token"]

    def csrf_mask():
        return _mask_cipher_secret(secret)

    def csrf_check():
        assert _does_token_match(token, secret)

    def csrf_roundtrip():
        assert _does_token_match(_mask_cipher_secret(secret), secret)

    storage = CookieStorage(HttpRequest())
    messages = [Message(m["level"], m["message"], m["extra_tags"]) for m in inputs["messages"]]
    cookie = storage._encode(messages)

    def messages_encode():
        return storage._encode(messages)

    def messages_decode():
        return storage._decode(cookie)

    assert len(messages_decode()) == len(messages)

    def messages_roundtrip():
        return storage._decode(storage._encode(messages))

    only = set(sys.argv[1:])
    for name, fn in [
        ("session_sign", session_sign),
        ("session_unsign", session_unsign),
        ("session_roundtrip", session_roundtrip),
        ("csrf_mask", csrf_mask),
        ("csrf_check", csrf_check),
        ("csrf_roundtrip", csrf_roundtrip),
        ("messages_encode", messages_encode),
        ("messages_decode", messages_decode),
        ("messages_roundtrip", messages_roundtrip),
    ]:
        if only and name not in only:
            continue
        print("%s %.0f" % (name, best_ns(fn)), flush=True)
    print("# Django %s, Python %s" % (django.get_version(), sys.version.split()[0]))


if __name__ == "__main__":
    main()
