"""Task functions for the Python `delayed` worker in the bench: addressed as "bench_tasks:<name>"."""


def noop(*args, **kwargs):
    """Does nothing: the bench measures the queue, not the task."""
    return None
