"""``GroupWriter``: one thread that applies concurrent SQLite writes in one transaction per batch.

Why. A write through aiosqlite costs a thread round trip and one transaction (one commit,
one append of WAL frames) each; at 32 concurrent requests the writes queue behind each
other on that one thread. Here every write is queued to a single writer thread that owns
its own connection. When it wakes, it takes every write waiting (up to ``MAX_BATCH``),
runs them in order inside one ``BEGIN IMMEDIATE … COMMIT``, and hands all their outcomes
back to the event loop in one ``call_soon_threadsafe``. It never waits for company on
purpose: a batch is whatever arrived while the previous batch was being applied, so a lone
write is applied at once and a batch is never held back (the wait is 0 ms, not "up to 2").

Each write keeps its own outcome. Every write is one SQL statement; SQLite undoes a
statement that fails on a constraint (``INSERT`` of an existing key) without touching the
rest of the transaction, so that write alone gets ``DUPLICATE`` (its caller's ``Conflict``).
A compare-and-set ``UPDATE … WHERE version = ?`` that matches nothing is simply a statement
that returned no rows: that write's ``Conflict``, never its neighbours'. Writes in a batch
run in arrival order, each seeing the ones before it (fifty increments of one counter in
one batch return 1…50 as they would one by one). Any other SQLite error inside a batch
rolls the whole batch back and the writes are re-applied one per transaction, so a failing
write fails alone (``StorageUnavailable``, nothing of it written). A batch whose
``BEGIN IMMEDIATE`` cannot get the lock within the busy timeout (another process holds it)
fails whole with ``StorageUnavailable``: nothing of it was written.

Durability. A write is acknowledged (its future resolved) only after its batch's ``COMMIT``
returned. The database is in WAL mode with ``synchronous = NORMAL`` (as before group
commit): a COMMIT appends the transaction's frames and commit record to the ``-wal`` file
with ``write()`` and does not ``fsync``; the WAL is fsynced at checkpoints. So an
acknowledged write survives a crash of the process (kill -9, OOM kill: the frames are in the
OS's page cache and the next opener recovers them from the WAL), but not necessarily a
power loss or kernel crash: then the transactions committed since the last checkpoint may be
rolled back. The file stays consistent either way (no torn transaction, integrity_check ok).
``synchronous = FULL`` would make acknowledged writes survive power loss at the cost of one
fsync per batch; batching is what would keep that affordable.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import defaultdict
from typing import Any

from core.errors import StorageUnavailable

MAX_BATCH = 512
DUPLICATE = object()  # the outcome of an INSERT that met an existing key (allow_duplicate=True)


class _Write:
    __slots__ = ("allow_duplicate", "future", "params", "sql")

    def __init__(self, sql: str, params: tuple[Any, ...], allow_duplicate: bool,
                 future: asyncio.Future[Any]) -> None:
        self.sql = sql
        self.params = params
        self.allow_duplicate = allow_duplicate
        self.future = future


_STOP = object()


class GroupWriter:
    """The single writer of one SQLite file in this process; see the module docstring.

    ``await writer.write(sql, params)`` returns the statement's rows (``RETURNING``) once
    its batch is committed, ``DUPLICATE`` for a constraint failure when ``allow_duplicate``,
    or raises ``StorageUnavailable``. ``batches`` and ``writes`` count what was applied.
    """

    def __init__(self, path: str, busy_timeout_ms: int, max_batch: int = MAX_BATCH) -> None:
        self._conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                     check_same_thread=False)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            self._conn.close()
            raise
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self.batches = 0
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name="rocket-sqlite-writer", daemon=True)
        self._thread.start()

    def write(self, sql: str, params: tuple[Any, ...] = (),
              allow_duplicate: bool = False) -> asyncio.Future[Any]:
        """Queue one statement; the future resolves after its batch commits."""
        if self._closed:
            raise StorageUnavailable("The SQLite store is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put(_Write(sql, params, allow_duplicate, future))
        return future

    async def close(self) -> None:
        """Apply every write already queued, stop the thread, close the connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._conn.close()

    # --- the writer thread ------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            outcomes = self._apply(batch, whole=True)
            self._hand_back(batch, outcomes)

    def _apply(self, batch: list[_Write], whole: bool) -> list[Any]:
        """Run ``batch`` in one transaction; one outcome (rows, DUPLICATE or exception) each."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return [StorageUnavailable(f"SQLite failed to start a write: {exc}") for _ in batch]
        try:
            outcomes = [self._one(conn, w) for w in batch]
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self._rollback()
            if len(batch) == 1 or not whole:
                return [StorageUnavailable(f"SQLite failed to write: {exc}") for _ in batch]
            return [self._apply([w], whole=False)[0] for w in batch]
        self.batches += 1
        self.writes += len(batch)
        return outcomes

    @staticmethod
    def _one(conn: sqlite3.Connection, w: _Write) -> Any:
        try:
            return conn.execute(w.sql, w.params).fetchall()
        except sqlite3.IntegrityError:
            if not w.allow_duplicate:
                raise
            return DUPLICATE  # SQLite undid this statement only; the transaction goes on

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a failed COMMIT may already have rolled back

    @staticmethod
    def _hand_back(batch: list[_Write], outcomes: list[Any]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = defaultdict(list)
        for w, outcome in zip(batch, outcomes, strict=True):
            by_loop[w.future.get_loop()].append((w.future, outcome))
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, pairs)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass


def _resolve(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    """On the event loop: settle each write's future with its own outcome."""
    for future, outcome in pairs:
        if future.done():  # the caller was cancelled; the write was applied all the same
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
