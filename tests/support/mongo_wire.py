"""A MongoDB wire-protocol stand-in: a plain TCP server that PyMongo talks to over a socket.

No MongoDB server can be installed on the test machines, so ``MongoWireStandIn`` speaks the
part of the wire protocol PyMongo's ``AsyncMongoClient`` uses and applies each command to an
in-process mongomock database. Everything between the adapter and mongomock is real: the
driver's handshake, server monitoring, connection pool, BSON encoding, OP_MSG framing,
cursors, and its parsing of replies and errors.

Protocol (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/):

- every message starts with a 16-byte header ``messageLength, requestID, responseTo, opCode``
  (little-endian int32s);
- ``OP_MSG`` (2013): ``flagBits`` uint32, then sections: kind 0 is the command document, kind
  1 is a document sequence (``size, identifier cstring, documents...``) that the driver uses
  for ``documents``/``updates``/``deletes``; it is merged into the command under its identifier.
  A trailing CRC-32C is present when flag bit 0 is set (ignored); when ``moreToCome`` (bit 1)
  is set the client expects no reply (unacknowledged writes);
- ``OP_QUERY`` (2004) is what the driver sends for the very first ``hello``/``isMaster`` of a
  connection, before it knows the server speaks OP_MSG; it is answered with ``OP_REPLY`` (1).

The server says it is a standalone MongoDB 7.0 (``maxWireVersion`` 21) that supports sessions
(so the driver sends ``lsid`` and, on close, ``endSessions``) and omits ``topologyVersion``
(so the driver polls with ``hello`` instead of streaming). A standalone does not offer
retryable writes or transactions, as a real standalone ``mongod`` does not.

Commands: ``hello``/``isMaster``, ``ping``, ``buildInfo``, ``endSessions``, ``find``,
``getMore``, ``killCursors``, ``insert``, ``update`` (replacement, operators, upsert, multi),
``delete``, ``findAndModify``, ``aggregate``, ``count``, ``createIndexes``, ``listIndexes``,
``listCollections``, ``drop``, ``dropDatabase``. Fields the driver adds (``lsid``,
``$clusterTime``, ``$readPreference``, ``writeConcern``, ``txnNumber``, ...) are ignored; the
database is ``$db``. Errors have MongoDB's shape: ``{ok: 0, errmsg, code, codeName}`` for a
failed command, ``writeErrors: [{index, code, errmsg}]`` (``ok: 1``) for a failed write, with
code 11000 for a duplicate key, so ``pymongo.errors.DuplicateKeyError`` is raised by the driver
itself.

Faults: ``fail_next(command, "drop-before" | "drop-after")`` closes the connection instead of
answering the next such command, before or after applying it (a lost request, a lost answer).

The server runs on its own event loop in a daemon thread, so synchronous tests, async tests and
subprocesses (``rocket serve``) can all use it. ``stop()`` closes the listener and every
connection (an outage); ``start()`` listens again on the same port with the same data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import bson
import mongomock
import pytest
from bson.codec_options import CodecOptions
from pymongo.errors import DuplicateKeyError, OperationFailure

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013
HEADER = struct.Struct("<iiii")
CHECKSUM_PRESENT = 1 << 0
MORE_TO_COME = 1 << 1
MAX_WIRE_VERSION = 21  # MongoDB 7.0
DEFAULT_BATCH = 101  # the server's default first batch
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CODEC = CodecOptions(document_class=dict, tz_aware=True)

# Keys the driver (or a session) adds to a command that do not change what it does.
IGNORED_FIELDS = {
    "lsid", "$clusterTime", "$db", "$readPreference", "txnNumber", "autocommit", "startTransaction",
    "writeConcern", "readConcern", "apiVersion", "apiStrict", "apiDeprecationErrors", "comment",
    "maxTimeMS", "bypassDocumentValidation", "$audit", "client", "compression", "helloOk",
}


class CommandError(Exception):
    """A command failure, answered as ``{ok: 0, errmsg, code, codeName}``."""

    def __init__(self, errmsg: str, code: int, code_name: str) -> None:
        super().__init__(errmsg)
        self.doc = {"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": code_name}


def _write_error(index: int, exc: OperationFailure) -> dict[str, Any]:
    code = 11000 if isinstance(exc, DuplicateKeyError) else (exc.code or 2)
    return {"index": index, "code": code, "errmsg": str(exc)}


def _check_inc(coll: Any, query: dict[str, Any], update: Any, multi: bool = False) -> None:
    """Refuse an ``$inc`` that would leave int64, as mongod does (mongomock would store a
    Python int that BSON cannot encode). Top-level fields only, which is what Rocket uses."""
    inc = update.get("$inc") if isinstance(update, dict) else None
    if not inc:
        return
    for doc in coll.find(query) if multi else [d for d in [coll.find_one(query)] if d]:
        for field, amount in inc.items():
            current = doc.get(field, 0)
            ints = isinstance(current, int) and isinstance(amount, int)
            if ints and not INT64_MIN <= current + amount <= INT64_MAX:
                raise OperationFailure(
                    f"Failed to apply $inc operations to current value ((NumberLong){current}) "
                    f"for document {{_id: {doc['_id']!r}}}", 2)


class MongoWireStandIn:
    """A MongoDB stand-in on ``127.0.0.1:port`` (port 0 picks a free one at first start).

    Observations for tests: ``frames`` counts received messages by opcode name (``OP_MSG``,
    ``OP_QUERY``), ``commands`` counts commands by name, ``connections`` is how many TCP
    connections were accepted and ``open_connections`` how many are open now. ``client`` is the
    mongomock client holding the data (read it from tests; it lives as long as the stand-in).
    """

    FAULTS = ("drop-before", "drop-after")

    def __init__(self) -> None:
        self.client: mongomock.MongoClient[dict[str, Any]] = mongomock.MongoClient()
        self.port = 0
        self.frames: Counter[str] = Counter()
        self.commands: Counter[str] = Counter()
        self.connections = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._cursors: dict[int, tuple[str, list[dict[str, Any]]]] = {}
        self._cursor_ids = itertools.count(1000)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mongo-wire", daemon=True)
        self._thread.start()
        self._server: asyncio.base_events.Server | None = None
        self._lock = threading.Lock()  # frames/commands/faults are shared with other threads
        self._faults: dict[str, str] = {}

    # ---- lifecycle (call from any thread) -------------------------------------------------

    def start(self) -> MongoWireStandIn:
        """Listen (again) on 127.0.0.1; the same port after the first start."""
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection; the data is kept."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    def shutdown(self) -> None:
        """Stop and end the server's thread."""
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, db_name: str = "rocket", options: str = "") -> str:
        """A ``mongodb://`` URL for this server and database (``options``: ``a=1&b=2``)."""
        return f"mongodb://127.0.0.1:{self.port}/{db_name}" + (f"?{options}" if options else "")

    def fail_next(self, command: str, how: str) -> None:
        """Close the connection at the next ``command`` (its name as sent, e.g. ``insert``)."""
        if how not in self.FAULTS:
            raise ValueError(f"fault must be one of {self.FAULTS}, not {how!r}")
        with self._lock:
            self._faults[command] = how

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def open_connections(self) -> int:
        return len(self._writers)

    def db(self, name: str) -> Any:
        """The mongomock database behind ``name`` (for assertions on stored documents)."""
        return self.client[name]

    async def _start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        self._cursors.clear()

    # ---- framing --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                length, request_id, _, opcode = HEADER.unpack(header)
                payload = await reader.readexactly(length - HEADER.size)
                reply = self._handle_frame(opcode, payload, request_id)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _handle_frame(self, opcode: int, payload: bytes, request_id: int) -> bytes | None:
        if opcode == OP_MSG:
            self._count(self.frames, "OP_MSG")
            flags, command = self._parse_op_msg(payload)
            with self._lock:
                fault = self._faults.pop(next(iter(command), ""), None)
            if fault == "drop-before":
                raise ConnectionError("fault: connection dropped before the command")
            reply = self._run(command)
            if fault == "drop-after":
                raise ConnectionError("fault: connection dropped after the command")
            if flags & MORE_TO_COME:
                return None
            body = struct.pack("<IB", 0, 0) + self._encode(reply)
            return HEADER.pack(HEADER.size + len(body), next(self._cursor_ids), request_id, OP_MSG) + body
        if opcode == OP_QUERY:
            self._count(self.frames, "OP_QUERY")
            reply = self._run(self._parse_op_query(payload))
            body = struct.pack("<iqii", 0, 0, 0, 1) + self._encode(reply)
            return HEADER.pack(HEADER.size + len(body), next(self._cursor_ids), request_id, OP_REPLY) + body
        # OP_COMPRESSED is only sent after compression was negotiated, which this server never
        # offers; anything else is not a request a current driver sends. Closing is what a
        # server does with a frame it cannot parse.
        self._count(self.frames, f"opcode {opcode}")
        raise ConnectionError(f"unsupported opcode {opcode}")

    @staticmethod
    def _encode(reply: dict[str, Any]) -> bytes:
        """The reply as BSON; a reply that cannot be encoded becomes an error reply."""
        try:
            return bson.encode(reply)
        except Exception as exc:
            return bson.encode(CommandError(f"reply not encodable: {exc}", 1, "InternalError").doc)

    @staticmethod
    def _parse_op_msg(payload: bytes) -> tuple[int, dict[str, Any]]:
        (flags,) = struct.unpack_from("<I", payload)
        end = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0)
        pos = 4
        command: dict[str, Any] = {}
        sequences: dict[str, list[dict[str, Any]]] = {}
        while pos < end:
            kind = payload[pos]
            pos += 1
            (size,) = struct.unpack_from("<i", payload, pos)
            if kind == 0:
                command = bson.decode(payload[pos : pos + size], CODEC)
            else:
                nul = payload.index(b"\x00", pos + 4)
                name = payload[pos + 4 : nul].decode()
                sequences[name] = bson.decode_all(payload[nul + 1 : pos + size], CODEC)
            pos += size
        command.update(sequences)
        return flags, command

    @staticmethod
    def _parse_op_query(payload: bytes) -> dict[str, Any]:
        nul = payload.index(b"\x00", 4)
        namespace = payload[4:nul].decode()
        pos = nul + 1 + 8  # numberToSkip, numberToReturn
        (size,) = struct.unpack_from("<i", payload, pos)
        query = bson.decode(payload[pos : pos + size], CODEC)
        query = query.get("$query", query)  # a read preference wraps the command
        query["$db"] = namespace.split(".", 1)[0]
        return query

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    # ---- commands -------------------------------------------------------------------------

    def _run(self, command: dict[str, Any]) -> dict[str, Any]:
        if not command:
            return CommandError("empty command", 9, "FailedToParse").doc
        name = next(iter(command))
        self._count(self.commands, name)
        handler = getattr(self, f"_cmd_{name.lower()}", None)
        if handler is None:
            return CommandError(f"no such command: '{name}'", 59, "CommandNotFound").doc
        args = {k: v for k, v in command.items() if k not in IGNORED_FIELDS}
        db = self.client[command.get("$db", "test")]
        try:
            reply = handler(db, args)
        except CommandError as exc:
            return exc.doc
        except DuplicateKeyError as exc:
            return CommandError(str(exc), 11000, "DuplicateKey").doc
        except OperationFailure as exc:
            return CommandError(str(exc), exc.code or 2, "BadValue").doc
        except Exception as exc:  # a bad argument or a mongomock limit: an error reply, as mongod
            return CommandError(f"{name}: {exc!r}", 1, "InternalError").doc
        return {**reply, "ok": 1.0}

    def _cmd_hello(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "isWritablePrimary": True,
            "ismaster": True,
            "helloOk": True,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "localTime": dt.datetime.now(dt.UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": self.connections,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
        }

    _cmd_ismaster = _cmd_hello

    def _cmd_ping(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _cmd_buildinfo(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {"version": "7.0.0", "versionArray": [7, 0, 0, 0], "maxBsonObjectSize": 16 * 1024 * 1024}

    def _cmd_endsessions(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {}

    # cursors

    def _cursor_reply(self, ns: str, docs: list[dict[str, Any]], batch: int | None, single: bool = False,
                      first: bool = True) -> dict[str, Any]:
        size = DEFAULT_BATCH if first and not batch else (batch or len(docs))
        head, rest = docs[:size], docs[size:]
        cursor_id = 0
        if rest and not single:
            cursor_id = next(self._cursor_ids)
            self._cursors[cursor_id] = (ns, rest)
        key = "firstBatch" if first else "nextBatch"
        return {"cursor": {key: head, "id": bson.int64.Int64(cursor_id), "ns": ns}}

    def _cmd_find(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["find"]]
        cursor = coll.find(args.get("filter") or {}, args.get("projection"))
        if args.get("sort"):
            cursor = cursor.sort(list(args["sort"].items()))
        if args.get("skip"):
            cursor = cursor.skip(int(args["skip"]))
        limit = int(args.get("limit") or 0)
        if limit:
            cursor = cursor.limit(abs(limit))
        return self._cursor_reply(f"{db.name}.{coll.name}", list(cursor), args.get("batchSize"),
                                  single=bool(args.get("singleBatch")) or limit < 0)

    def _cmd_getmore(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        cursor_id = int(args["getMore"])
        if cursor_id not in self._cursors:
            raise CommandError(f"cursor id {cursor_id} not found", 43, "CursorNotFound")
        ns, docs = self._cursors.pop(cursor_id)
        reply = self._cursor_reply(ns, docs, args.get("batchSize"), first=False)
        return reply

    def _cmd_killcursors(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        ids = [int(c) for c in args.get("cursors", [])]
        killed = [c for c in ids if self._cursors.pop(c, None) is not None]
        return {"cursorsKilled": killed, "cursorsNotFound": [c for c in ids if c not in killed],
                "cursorsAlive": [], "cursorsUnknown": []}

    def _cmd_aggregate(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(args["aggregate"], str):
            raise CommandError("database-level aggregate is not supported", 2, "BadValue")
        coll = db[args["aggregate"]]
        docs = list(coll.aggregate(args.get("pipeline", [])))
        batch = (args.get("cursor") or {}).get("batchSize")
        return self._cursor_reply(f"{db.name}.{coll.name}", docs, batch)

    def _cmd_count(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        return {"n": db[args["count"]].count_documents(args.get("query") or {})}

    # writes

    def _cmd_insert(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["insert"]]
        n, errors = 0, []
        for index, doc in enumerate(args.get("documents", [])):
            try:
                coll.insert_one(doc)
                n += 1
            except OperationFailure as exc:
                errors.append(_write_error(index, exc))
                if args.get("ordered", True):
                    break
        return {"n": n, **({"writeErrors": errors} if errors else {})}

    def _cmd_update(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["update"]]
        n = modified = 0
        upserted, errors = [], []
        for index, op in enumerate(args.get("updates", [])):
            q, u, upsert = op.get("q") or {}, op.get("u") or {}, bool(op.get("upsert"))
            try:
                if isinstance(u, list):
                    raise OperationFailure("pipeline updates are not supported", 2)
                if u and all(k.startswith("$") for k in u):
                    _check_inc(coll, q, u, multi=bool(op.get("multi")))
                    apply = coll.update_many if op.get("multi") else coll.update_one
                    result = apply(q, u, upsert=upsert, array_filters=op.get("arrayFilters"))
                else:
                    if op.get("multi"):
                        raise OperationFailure("multi update is not supported for replacement", 9)
                    result = coll.replace_one(q, u, upsert=upsert)
            except OperationFailure as exc:
                errors.append(_write_error(index, exc))
                if args.get("ordered", True):
                    break
                continue
            n += result.matched_count
            modified += result.modified_count
            if result.upserted_id is not None:
                n += 1
                upserted.append({"index": index, "_id": result.upserted_id})
        reply: dict[str, Any] = {"n": n, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _cmd_delete(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["delete"]]
        n = 0
        for op in args.get("deletes", []):
            q = op.get("q") or {}
            n += (coll.delete_one(q) if op.get("limit") == 1 else coll.delete_many(q)).deleted_count
        return {"n": n}

    def _cmd_findandmodify(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["findAndModify"]]
        query, sort = args.get("query") or {}, list((args.get("sort") or {}).items()) or None
        fields, new, upsert = args.get("fields"), bool(args.get("new")), bool(args.get("upsert"))
        existing = coll.find_one(query, sort=sort)
        if args.get("remove"):
            value = coll.find_one_and_delete(query, projection=fields, sort=sort)
            return {"lastErrorObject": {"n": int(value is not None)}, "value": value}
        update = args.get("update") or {}
        after = new  # pymongo's ReturnDocument.AFTER is True, BEFORE is False
        if isinstance(update, dict) and update and all(k.startswith("$") for k in update):
            _check_inc(coll, query, update)
            value = coll.find_one_and_update(query, update, projection=fields, sort=sort, upsert=upsert,
                                             return_document=after)
        else:
            value = coll.find_one_and_replace(query, update, projection=fields, sort=sort, upsert=upsert,
                                              return_document=after)
        found = existing is not None
        last: dict[str, Any] = {"n": int(found or upsert), "updatedExisting": found}
        if existing is None and upsert:
            last["upserted"] = (value or coll.find_one(query) or {}).get("_id")
        return {"lastErrorObject": last, "value": value}

    # indexes and collections

    def _cmd_createindexes(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["createIndexes"]]
        before = len(coll.index_information())
        for spec in args.get("indexes", []):
            options = {k: v for k, v in spec.items() if k in ("name", "unique", "sparse")}
            coll.create_index(list(spec["key"].items()), **options)
        return {"numIndexesBefore": before, "numIndexesAfter": len(coll.index_information()),
                "createdCollectionAutomatically": before == 0}

    def _cmd_listindexes(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        coll = db[args["listIndexes"]]
        docs = [{"v": 2, "key": dict(info["key"]), "name": name,
                 **({"unique": True} if info.get("unique") else {})}
                for name, info in coll.index_information().items()]
        return self._cursor_reply(f"{db.name}.{coll.name}", docs, (args.get("cursor") or {}).get("batchSize"))

    def _cmd_listcollections(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        docs = [{"name": n, "type": "collection", "options": {}} for n in db.list_collection_names()]
        return self._cursor_reply(f"{db.name}.$cmd.listCollections", docs, None)

    def _cmd_drop(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        db.drop_collection(args["drop"])
        return {}

    def _cmd_dropdatabase(self, db: Any, args: dict[str, Any]) -> dict[str, Any]:
        self.client.drop_database(db.name)
        return {}


@pytest.fixture(scope="session")
def mongo_wire() -> Iterator[MongoWireStandIn]:
    """One stand-in for the session; tests keep apart by using their own database names."""
    server = MongoWireStandIn().start()
    try:
        yield server
    finally:
        server.shutdown()
