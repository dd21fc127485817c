"""Command-line driver for the real Python `delayed` peer (pinned in requirements.txt).

Run with the venv interpreter, e.g.
    .venv/bin/python harness.py worker --redis redis://127.0.0.1:6390 --queue q1

Values on the command line and in case files are tagged JSON (see tagged_json.py).
Every command writes machine-readable JSON lines to stdout (one object per line) and
human-oriented logs to stderr. See ../PEERS.md for the full reference.
"""

import argparse
import json
import logging
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    # The worker imports task functions by "module:func"; interop_tasks must be importable.
    sys.path.insert(0, HERE)

import redis  # noqa: E402

import delayed  # noqa: E402
from delayed.logger import setup_logger  # noqa: E402
from delayed.queue import Queue  # noqa: E402
from delayed.sweeper import Sweeper  # noqa: E402
from delayed.task import GoTask, PyTask  # noqa: E402
from delayed.worker import Worker  # noqa: E402

import tagged_json  # noqa: E402


def emit(event, **fields):
    doc = {'event': event}
    doc.update(fields)
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(',', ':')) + '\n')
    sys.stdout.flush()


def connect(url):
    return redis.Redis.from_url(url)


def make_queue(args, conn, queue_cls=Queue):
    return queue_cls(
        args.queue,
        conn,
        dequeue_timeout=args.dequeue_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
    )


def build_task(case):
    """Builds a delayed task from a case dict (already decoded from tagged JSON)."""
    if case.get('go'):
        func = case['func']
        if 'args' not in case or case['args'] is None:
            return GoTask(func)
        args = case['args']
        if case.get('raw_args'):
            return GoTask(func, args)
        if not isinstance(args, list):
            raise ValueError('GoTask case args must be a list (or set raw_args)')
        # Mirror go-delayed's NewGoTask(funcPath, arg...): one argument travels as itself,
        # several as an array.
        if len(args) == 1:
            return GoTask(func, args[0])
        return GoTask(func, args)
    return PyTask(
        case['func'],
        case.get('args'),
        case.get('kwargs'),
        case.get('retry', 0) or 0,
    )


# ---------------------------------------------------------------- commands

def cmd_enqueue(args):
    conn = connect(args.redis)
    queue = make_queue(args, conn)
    task_args = tagged_json.loads(args.args_json)
    task_kwargs = tagged_json.loads(args.kwargs_json)
    if not isinstance(task_args, list):
        raise SystemExit('--args-json must be a JSON array')
    if not isinstance(task_kwargs, dict):
        raise SystemExit('--kwargs-json must be a JSON object')
    for index in range(args.count):
        task = PyTask(args.func, task_args, task_kwargs, args.retry)
        data = task.serialize()
        queue.enqueue(task)
        emit('enqueued', index=index, hex=data.hex())


def cmd_enqueue_cases(args):
    with open(args.cases, encoding='utf-8') as fp:
        cases = tagged_json.from_tagged(json.load(fp))
    if not isinstance(cases, list):
        raise SystemExit('the cases file must hold a JSON array')
    queue = None
    if not args.dry_run:
        queue = make_queue(args, connect(args.redis))
    for index, case in enumerate(cases):
        task = build_task(case)
        data = task.serialize()
        if queue is not None:
            queue.enqueue(task)
        emit('enqueued' if queue is not None else 'serialized', index=index,
             name=case.get('name'), kind='go' if case.get('go') else 'py', hex=data.hex())


class AnnouncingWorker(Worker):
    """delayed's Worker, plus a stdout line with the worker id once it is online."""

    def generate_id(self):
        super().generate_id()
        emit('ready', worker_id=str(self._id), pid=os.getpid(), queue=self._queue._name,
             delayed_version=delayed.__version__)


def cmd_worker(args):
    os.environ['INTEROP_REDIS_URL'] = args.redis
    os.environ['INTEROP_RESULTS_KEY'] = args.results_key or ('interop:calls:' + args.queue)
    conn = connect(args.redis)
    queue = make_queue(args, conn)
    worker = AnnouncingWorker(queue, keep_alive_interval=args.keep_alive_interval, id_bits=args.id_bits)

    # delayed itself only installs a SIGHUP handler (graceful stop: finish the current
    # task, leave the loop, DEL the worker id key). The harness maps SIGTERM and SIGINT to
    # the same Worker.stop() so test runners can use their default signal.
    def stop(signum, frame):
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()
    emit('stopped', worker_id=str(worker._id))


class CountingQueue(Queue):
    """delayed's Queue, plus a stdout line for every sweep that requeued something."""

    def requeue_lost(self):
        count = super().requeue_lost()
        if count:
            emit('requeued', queue=self._name, count=count)
        return count


def cmd_sweeper(args):
    conn = connect(args.redis)
    queue = make_queue(args, conn, CountingQueue)
    sweeper = Sweeper([queue], interval=args.interval_ms / 1000.0)

    def stop(signum, frame):
        sweeper.stop()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    emit('ready', pid=os.getpid(), queue=args.queue, interval_ms=args.interval_ms)
    sweeper.run()
    emit('stopped')


def cmd_sweep_once(args):
    conn = connect(args.redis)
    queue = make_queue(args, conn)
    emit('swept', queue=args.queue, count=queue.requeue_lost())


# ---------------------------------------------------------------- CLI

def main(argv=None):
    parser = argparse.ArgumentParser(description='Drive the real Python delayed peer.')
    parser.add_argument('--log-level', default=os.environ.get('INTEROP_LOG_LEVEL', 'INFO'),
                        help="delayed's logger level on stderr (DEBUG shows every step)")
    sub = parser.add_subparsers(dest='cmd', required=True)

    def common(p):
        p.add_argument('--redis', required=True, help='redis://host:port[/db]')
        p.add_argument('--queue', required=True, help='queue name (the Redis list key)')
        p.add_argument('--dequeue-timeout', type=float, default=1.0,
                       help='BLPOP timeout in seconds (delayed default 1)')
        p.add_argument('--keep-alive-timeout', type=int, default=60,
                       help='worker id key TTL in whole seconds (delayed default 60). delayed '
                            'refreshes it with SETEX, which rejects fractions, so use an int')

    p = sub.add_parser('enqueue', help='enqueue PyTask(func, args, kwargs, retry) [count] times')
    common(p)
    p.add_argument('--func', required=True, help='"module.path:func_name" (or a Node handler name)')
    p.add_argument('--args-json', default='[]', help='tagged JSON array')
    p.add_argument('--kwargs-json', default='{}', help='tagged JSON object')
    p.add_argument('--retry', type=int, default=0)
    p.add_argument('--count', type=int, default=1)
    p.set_defaults(handler=cmd_enqueue)

    p = sub.add_parser('enqueue-cases', help='enqueue one task per case of a tagged JSON file')
    common(p)
    p.add_argument('--cases', required=True)
    p.add_argument('--dry-run', action='store_true', help='only print the serialized bytes')
    p.set_defaults(handler=cmd_enqueue_cases)

    p = sub.add_parser('worker', help='run a real delayed Worker')
    common(p)
    p.add_argument('--keep-alive-interval', type=float, default=15.0,
                   help='seconds between SETEX refreshes (delayed default 15)')
    p.add_argument('--id-bits', type=int, default=16, help='random worker id bits (delayed default 16)')
    p.add_argument('--results-key', default=None,
                   help='Redis list the task functions record into '
                        '(default: interop:calls:<queue>; exported as INTEROP_RESULTS_KEY)')
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser('sweeper', help='run a real delayed Sweeper on the queue')
    common(p)
    p.add_argument('--interval-ms', type=int, default=60000,
                   help='sweep period; delayed sleeps one period before the first sweep')
    p.set_defaults(handler=cmd_sweeper)

    p = sub.add_parser('sweep-once', help="call delayed's Queue.requeue_lost() once")
    common(p)
    p.set_defaults(handler=cmd_sweep_once)

    args = parser.parse_args(argv)
    level = getattr(logging, args.log_level.upper(), logging.INFO)
    setup_logger(log_level=level)
    logging.getLogger('delayed').setLevel(level)
    args.handler(args)


if __name__ == '__main__':
    main()
