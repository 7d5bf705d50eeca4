"""The request worker-thread pool, sized so a request holding a lock always gets its next thread.

FastAPI runs each sync step of a request (dependencies, the endpoint, the response's validation) in AnyIO's
default thread pool, one step at a time: 40 threads unless raised. A write holds its locks (on SQLite the
process's writer lock; on PostgreSQL the rows it changes) from its first write to its commit and needs further
threads in between, while the requests queued behind that lock wait inside threads. Once every thread is such a
waiter the holder never gets one, and the process stops for good (bench/load.py found it; the regression
test is tests/service/test_thread_pool_exhaustion.py).

So the pool is larger than the number of requests the server admits at once: `tmsops serve` gives uvicorn
``limit_concurrency=MAX_CONCURRENT`` (beyond it uvicorn answers 503), and each request holds at most one
thread at a time. The database connection pool still bounds how much runs at once; extra threads only wait.
"""

from __future__ import annotations

from anyio import to_thread

MAX_CONCURRENT = 1000  # connections and requests uvicorn admits before answering 503
REQUEST_THREADS = MAX_CONCURRENT + 24  # > MAX_CONCURRENT, so a lock holder always finds a free thread


def widen() -> None:
    """Size the running event loop's default thread pool (call from the app's lifespan, inside the loop)."""
    to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
