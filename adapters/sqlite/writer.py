"""``GroupWriter``: group commit, one transaction per batch of concurrent SQLite writes.

Why. Through aiosqlite every write cost a thread round trip and a transaction of its own
(one commit, one append of WAL frames); at 32 concurrent requests the writes queued behind
each other on that thread, one commit each.

How. ``write`` appends the statement to a pending list and, for the first one, schedules
``_flush`` with ``loop.call_soon``. So every write issued during one turn of the event loop
(the request handlers that ran in it) lands in the same batch, and the batch is applied at
the start of the next turn: it never waits for company (0 ms; never a timer). ``_flush``
applies the batch on the loop's thread through its own connection, in one
``BEGIN IMMEDIATE … COMMIT``, with a busy timeout of 0, and settles every write's future
at once. In WAL mode with ``synchronous = NORMAL`` such a commit is a ``write()`` of the
changed pages to the ``-wal`` file and no ``fsync``: tens of microseconds for a batch,
cheaper than the thread round trip it replaces. (Measured in one process on a busy
2-core machine, 32 tasks each reading a user then storing it: one aiosqlite transaction
per write 3,400 edits/s; this module with a writer thread only 3,200; on the loop 5,000,
and 10,600 once the WAL was kept short, see checkpoints below. 3,200 concurrent
increments: 4,600/s before, 8,200–21,000/s now.)
Two things could make the loop wait, and neither is allowed to:

- the write lock is held by another connection (another process, a Hypercorn worker, or
  this module's thread): ``BEGIN IMMEDIATE`` fails at once and the whole batch goes to the
  writer thread, which waits for the lock (``busy_timeout``) and applies it the same way;
- a checkpoint (it fsyncs): the loop's connection has ``wal_autocheckpoint = 0``; every
  ``CHECKPOINT_WRITES`` writes or ``CHECKPOINT_COMMITS`` batches (whichever comes first: a
  commit appends at least one frame per page it changed, so few large batches and many small
  ones both keep the WAL to a few thousand pages) the thread runs ``wal_checkpoint(RESTART)``. That one holds
  the write lock while it copies the WAL into the database (a passive checkpoint would
  not, but under a steady stream of writes it never catches up, so the WAL is never
  restarted and grows without bound); meanwhile the loop's ``BEGIN IMMEDIATE`` meets the
  lock and its batches go to the thread, which applies them right after the checkpoint.
  It waits at most ``CHECKPOINT_WAIT_MS`` for readers of other processes (a long read
  could otherwise hold every writer for the whole busy timeout) and else tries next time.
  (The thread's connection and other processes keep the automatic checkpoint.)

Each write keeps its own outcome. Every write is one SQL statement, run in arrival order,
each seeing those before it (fifty increments of one counter in one batch return what they
would one by one). SQLite undoes a statement that fails on a constraint (``INSERT`` of an
existing key) without touching the rest of the transaction: that write alone gets
``DUPLICATE`` (its caller's ``Conflict``). A compare-and-set ``UPDATE … WHERE version = ?``
that matches nothing is a statement that returned no rows: that write's ``Conflict``,
never its neighbours'. Any other error inside a batch rolls the whole batch back; the
thread then applies it again, and if it fails there too, one write per transaction, so
a failing write fails alone (``StorageUnavailable``, nothing of it written). A batch
whose ``BEGIN IMMEDIATE`` cannot get the lock within the busy timeout fails whole with
``StorageUnavailable``: nothing of it was written.

Durability (unchanged by group commit: same journal mode, same ``synchronous``). A write
is acknowledged (its future resolved) only after its batch's ``COMMIT`` returned. In WAL
mode with ``synchronous = NORMAL`` the commit record is in the ``-wal`` file (in the OS's
page cache) but not fsynced; the WAL is fsynced at checkpoints. So an acknowledged write
survives a crash of the process (kill -9, OOM kill, a Python fault: the next opener
recovers it from the WAL; tests/faults/test_serve_killed.py), but not necessarily a power
loss or kernel crash: then the transactions committed since the last checkpoint (at most
``CHECKPOINT_WRITES`` writes or ``CHECKPOINT_COMMITS`` batches) may be rolled back. The file
stays consistent either way (no torn transaction, integrity_check ok). ``synchronous = FULL``
would make acknowledged writes survive power loss at one fsync per batch, which batching is
what would keep affordable; that is a choice left open.
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
# Between two checkpoints by the thread: at most this many writes applied on the loop, or this
# many batches. A checkpoint copies each page changed since the last one once, however often it
# changed, so rarer checkpoints cost less in total (measured on `++` at c=32 with its audit entry:
# one every 250 writes took ~45 µs of a command's CPU; WAL recovery after a crash reads the WAL).
CHECKPOINT_WRITES = 2000
CHECKPOINT_COMMITS = 250
CHECKPOINT_WAIT_MS = 50  # how long a checkpoint may hold the write lock waiting for readers
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
_CHECKPOINT = object()


def _connect(path: str, busy_timeout_ms: int, autocheckpoint: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        if not autocheckpoint:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
    except BaseException:
        conn.close()
        raise
    return conn


class GroupWriter:
    """The single writer of one SQLite file in this process; see the module docstring.

    ``await writer.write(sql, params)`` returns the statement's rows (``RETURNING``) once
    its batch is committed, ``DUPLICATE`` for a constraint failure when ``allow_duplicate``,
    or raises ``StorageUnavailable``. ``batches``, ``writes`` and ``deferred`` count what
    was applied (``deferred``: batches that met a lock and went to the thread).
    """

    def __init__(self, path: str, busy_timeout_ms: int, max_batch: int = MAX_BATCH) -> None:
        self._conn = _connect(path, busy_timeout_ms, autocheckpoint=True)  # the thread's
        try:
            self._now = _connect(path, 0, autocheckpoint=False)  # the loop's: never waits
        except BaseException:
            self._conn.close()
            raise
        self._max_batch = max_batch
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: list[_Write] = []
        self._closed = False
        self.batches = 0
        self.writes = 0
        self.deferred = 0
        self._since_checkpoint = 0
        self._commits_since_checkpoint = 0
        self._thread = threading.Thread(target=self._run, name="rocket-sqlite-writer", daemon=True)
        self._thread.start()

    def write(self, sql: str, params: tuple[Any, ...] = (),
              allow_duplicate: bool = False) -> asyncio.Future[Any]:
        """Queue one statement; the future resolves after its batch commits."""
        if self._closed:
            raise StorageUnavailable("The SQLite store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append(_Write(sql, params, allow_duplicate, future))
        return future

    def _flush(self) -> None:
        """On the loop: apply the pending writes in one transaction, or hand them to the thread."""
        batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
        if not batch:
            return
        if self._pending:  # more than one batch arrived in one turn: the rest in the next turn
            asyncio.get_running_loop().call_soon(self._flush)
        try:
            self._now.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            self.deferred += 1
            self._queue.put(batch)  # locked by another connection: the thread waits for it
            return
        try:
            outcomes = [self._one(self._now, w) for w in batch]
            self._now.execute("COMMIT")
        except Exception:  # sqlite3.Error, OSError, …: undo it all; the thread redoes it
            _rollback(self._now)
            self.deferred += 1
            self._queue.put(batch)
            return
        self.batches += 1
        self.writes += len(batch)
        self._since_checkpoint += len(batch)
        self._commits_since_checkpoint += 1
        if (self._since_checkpoint >= CHECKPOINT_WRITES
                or self._commits_since_checkpoint >= CHECKPOINT_COMMITS):
            self._since_checkpoint = self._commits_since_checkpoint = 0
            self._queue.put(_CHECKPOINT)
        _resolve(list(zip((w.future for w in batch), outcomes, strict=True)))

    async def close(self) -> None:
        """Apply every write already queued, stop the thread, close the connections."""
        if self._closed:
            return
        self._closed = True
        while self._pending:
            self._flush()
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._now.close()
        self._conn.close()

    # --- the writer thread ------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                return
            if item is _CHECKPOINT:
                self._checkpoint()
                continue
            batch = list(item)
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if item is not _CHECKPOINT:
                    batch.extend(item)
            try:
                outcomes = self._apply(batch, whole=True)
            except Exception as exc:  # pragma: no cover - _apply catches; the thread must not die
                outcomes = [StorageUnavailable(f"SQLite failed to write: {exc}") for _ in batch]
            self._hand_back(batch, outcomes)

    def _checkpoint(self) -> None:
        """Copy the WAL into the database and restart it, waiting at most CHECKPOINT_WAIT_MS
        for other writers and readers (it holds the write lock meanwhile); on a busy file it
        gives up and the next one tries again."""
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                self._conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        except sqlite3.Error:
            pass

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
        except Exception as exc:  # sqlite3.Error, OSError, …: nothing of the batch stays
            _rollback(conn)
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


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # a failed COMMIT may already have rolled back


def _resolve(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    """On the event loop: settle each write's future with its own outcome."""
    for future, outcome in pairs:
        if future.done():  # the caller was cancelled; the write was applied all the same
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
