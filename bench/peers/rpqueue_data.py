"""Times rpqueue's data queue (rpqueue.Data) putting and consuming N items in batches of B.

Run with the interop venv interpreter (rpqueue and redis must be importable):

    python rpqueue_data.py --redis redis://127.0.0.1:PORT --queue NAME --batch B --count N

The queue must be empty. One thread, sequential calls, as rpqueue is used:
  put:      put_data(items[i:i+B]) until the N items are in;
  get+done: get_data(B, vis_timeout=30), then done_data(ids of what it got), until a get
            finds the queue empty (a lease, then done: the same semantics as the Node
            side's get(B) with a 30 s visibility timeout, then done(batch)).
Items are small JSON-like dicts, {"n": i, "user": "u123", "tags": ["a", "b"]}, built before
the clock starts. Every item must come back once with its content intact (the sum of "n"
is checked) and be marked done once; the queue's keys must be gone at the end.

Prints JSON lines on stdout: {"event": "ready", ...} once imported and connected, then
{"event": "done", ...} with the seconds of each phase, measured with time.perf_counter().
"""

import argparse
import json
import os
import sys
import time

import redis

import rpqueue

# rpqueue's visibility timeout is in seconds; the Node side uses 30,000 ms.
VIS_TIMEOUT_S = 30


def emit(event, **fields):
    fields['event'] = event
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()


def make_items(count):
    return [{'n': i, 'user': 'u123', 'tags': ['a', 'b']} for i in range(count)]


def put_all(queue, items, batch):
    for start in range(0, len(items), batch):
        queue.put_data(items[start:start + batch])


def get_done_all(queue, batch, deadline):
    """Gets and marks done until a get finds nothing; returns (items got, items done, sum of "n").

    Nothing else uses the queue, so the first empty get means it is drained.
    """
    got_count = 0
    done_count = 0
    total = 0
    while time.perf_counter() < deadline:
        got = queue.get_data(batch, vis_timeout=VIS_TIMEOUT_S)
        if not got:
            break
        done_count += queue.done_data(list(got))
        got_count += len(got)
        for item in got.values():
            total += item['n']
    return got_count, done_count, total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--redis', required=True)
    parser.add_argument('--queue', required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--time-limit', type=float, default=300.0)
    args = parser.parse_args()
    if not 1 <= args.batch <= 1000:
        parser.error('--batch must be from 1 to 1000 (what rpqueue.Data.get_data takes)')

    conn = redis.Redis.from_url(args.redis)
    conn.ping()
    rpqueue.set_redis_connection(conn)
    # rpqueue builds its key names as bytes (b'dataq:' + name): the name must be bytes too.
    queue = rpqueue.Data(args.queue.encode())
    keys = [queue.qkey, queue.mkey, queue.vkey]
    if conn.exists(*keys):
        raise SystemExit('the queue %r is not empty' % args.queue)
    items = make_items(args.count)
    emit('ready', rpqueue_version=rpqueue.VERSION, redis_py=redis.__version__, pid=os.getpid())

    deadline = time.perf_counter() + args.time_limit
    t0 = time.perf_counter()
    put_all(queue, items, args.batch)
    t1 = time.perf_counter()
    got, done, total = get_done_all(queue, args.batch, deadline)
    t2 = time.perf_counter()

    expected_total = args.count * (args.count - 1) // 2
    left = conn.exists(*keys)
    emit(
        'done',
        count=args.count,
        batch=args.batch,
        put_seconds=t1 - t0,
        get_done_seconds=t2 - t1,
        got=got,
        done=done,
        intact=(got == args.count and done == args.count and total == expected_total),
        keys_left=left,
    )


if __name__ == '__main__':
    main()
