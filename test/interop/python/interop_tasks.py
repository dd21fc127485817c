"""Task functions run by the real `delayed` Python worker in the interop tests.

Tasks address them as "interop_tasks:<name>". Each call appends one JSON document
(tagged JSON for the received values, see tagged_json.py) to the Redis list named by the
environment variable INTEROP_RESULTS_KEY, on the Redis server INTEROP_REDIS_URL.
harness.py sets both for the worker it starts.
"""

import json
import os
import time

import redis

from tagged_json import to_tagged

_conn = None


def _redis():
    global _conn
    if _conn is None:
        _conn = redis.Redis.from_url(os.environ.get('INTEROP_REDIS_URL', 'redis://127.0.0.1:6379'))
    return _conn


def _results_key():
    key = os.environ.get('INTEROP_RESULTS_KEY')
    if not key:
        raise RuntimeError('INTEROP_RESULTS_KEY is not set')
    return key


def _push(doc):
    doc.setdefault('pid', os.getpid())
    _redis().rpush(_results_key(), json.dumps(doc, ensure_ascii=False, separators=(',', ':')))


def record(*args, **kwargs):
    """Records the received positional and keyword arguments."""
    _push({'func': 'record', 'args': to_tagged(list(args)), 'kwargs': to_tagged(kwargs)})


def slow(ms, tag):
    """Records phase "start", sleeps `ms` milliseconds, then records phase "done"."""
    _push({'func': 'slow', 'phase': 'start', 'tag': to_tagged(tag)})
    time.sleep(ms / 1000.0)
    _push({'func': 'slow', 'phase': 'done', 'tag': to_tagged(tag)})


class InteropFailure(Exception):
    """Raised on purpose by fail() and flaky()."""


def fail(tag):
    """Records an attempt, then raises (from inside the task function, so delayed retries it)."""
    _push({'func': 'fail', 'tag': to_tagged(tag)})
    raise InteropFailure('fail(%r) failed on purpose' % (tag,))


def flaky(tag, failures):
    """Fails the first `failures` calls with this tag, then succeeds.

    Records {"func": "flaky", "tag": tag, "attempt": n, "ok": bool} for every call.
    The attempt counter lives in Redis under "<results key>:flaky:<tag>".
    """
    attempt = _redis().incr('%s:flaky:%s' % (_results_key(), tag))
    ok = attempt > failures
    _push({'func': 'flaky', 'tag': to_tagged(tag), 'attempt': attempt, 'ok': ok})
    if not ok:
        raise InteropFailure('flaky(%r) attempt %d failed on purpose' % (tag, attempt))
