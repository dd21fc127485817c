"""Drains a queue with the real Python `delayed` worker and reports how long it took.

Run with the interop venv interpreter (the package `delayed` must be importable):

    python delayed_drain.py --redis redis://127.0.0.1:PORT --queue NAME --count N

The tasks must already be waiting; they address "bench_tasks:noop". Prints JSON lines on
stdout: {"event": "ready", ...} once imported and connected, then {"event": "done", ...}
with the seconds from the worker going online to the release of the N-th task, as measured
here with time.perf_counter(). The worker stops itself after N tasks, or when a dequeue
finds the queue empty for --idle-timeout seconds, or after --time-limit seconds.
"""

import argparse
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    # The worker imports task functions by "module:func"; bench_tasks must be importable.
    sys.path.insert(0, HERE)

import redis  # noqa: E402

import delayed  # noqa: E402
from delayed.queue import Queue  # noqa: E402
from delayed.worker import Worker  # noqa: E402

import bench_tasks  # noqa: E402,F401  (imported now so the first task does not pay for it)


def emit(event, **fields):
    fields['event'] = event
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()


class StoppingQueue(Queue):
    """delayed's Queue; a dequeue that waited out its timeout on an empty queue stops the worker."""

    worker = None

    def dequeue(self):
        task = super().dequeue()
        if task is None and self.worker is not None and self.len() == 0:
            self.worker.stop()
        return task


class CountingWorker(Worker):
    """delayed's Worker, timed from going online to the release of the count-th task."""

    def __init__(self, queue, count):
        super().__init__(queue)
        self.count = count
        self.done = 0
        self.started_at = None
        self.finished_at = None

    def generate_id(self):
        super().generate_id()
        self.started_at = time.perf_counter()

    def _release_task(self):
        super()._release_task()
        self.done += 1
        if self.done == self.count:
            self.finished_at = time.perf_counter()
            self.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--redis', required=True)
    parser.add_argument('--queue', required=True)
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--idle-timeout', type=float, default=1.0)
    parser.add_argument('--time-limit', type=float, default=300.0)
    args = parser.parse_args()

    conn = redis.Redis.from_url(args.redis)
    conn.ping()
    queue = StoppingQueue(args.queue, conn, dequeue_timeout=args.idle_timeout)
    worker = CountingWorker(queue, args.count)
    queue.worker = worker
    timer = threading.Timer(args.time_limit, worker.stop)
    timer.daemon = True
    timer.start()
    emit('ready', delayed_version=getattr(delayed, '__version__', 'unknown'), pid=os.getpid())

    worker.run()
    timer.cancel()
    seconds = None
    if worker.finished_at is not None:
        seconds = worker.finished_at - worker.started_at
    emit('done', count=worker.done, expected=args.count, seconds=seconds)


if __name__ == '__main__':
    main()
