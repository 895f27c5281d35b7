"""The MongoDB adapter on PyMongo's ``AsyncMongoClient`` over the wire (tests/support/mongo_wire.py).

The contract suite (``-k mongo-wire``) proves the port's guarantees through the real driver;
these tests prove the wire is real (OP_MSG frames over TCP), that ``close()`` is awaited, that
the adapter uses no motor-only API, and each difference found between mongomock-motor and the
driver (BSON limits, ``$inc`` overflow, a bounded ``ping`` when the server is down).
"""

from __future__ import annotations

import ast
import asyncio
import gc
import socket
import struct
import time
import uuid
import warnings
from pathlib import Path

import bson
import pytest

from adapters.mongo import MongoStore
from adapters.mongo.store import PING_TIMEOUT
from core.errors import InvalidInput, NotFound, StorageUnavailable
from core.models import Team, User
from entrypoints.storage import open_store
from tests.support.mongo_wire import MongoWireStandIn, mongo_wire  # noqa: F401  (session fixture)

ADAPTER_DIR = Path(__file__).resolve().parents[2] / "adapters" / "mongo"


async def open_wire(server: MongoWireStandIn, options: str = "") -> MongoStore:
    """A store opened as production opens ``DATABASE_URL=mongodb://…``."""
    url = server.url(f"rocket_{uuid.uuid4().hex[:8]}", options)
    store = await open_store(url, None)
    assert isinstance(store, MongoStore)
    return store


async def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
async def wire_store(mongo_wire):  # noqa: F811
    store = await open_wire(mongo_wire)
    yield store
    mongo_wire.clear_faults()
    await store.close()


# ---- the wire is real ----------------------------------------------------------------------


async def test_production_open_uses_async_mongo_client(wire_store):
    from pymongo import AsyncMongoClient

    assert type(wire_store._client) is AsyncMongoClient


async def test_pymongo_talks_op_msg_over_a_tcp_socket(mongo_wire):  # noqa: F811
    connections, frames = mongo_wire.connections, mongo_wire.frames["OP_MSG"]
    store = await open_wire(mongo_wire)
    try:
        assert mongo_wire.connections > connections  # the driver dialled 127.0.0.1:PORT
        before, inserts, finds = mongo_wire.frames["OP_MSG"], mongo_wire.commands["insert"], \
            mongo_wire.commands["find"]
        await store.store(User("U1", name="over the wire"))
        assert (await store.retrieve(User, "U1")).name == "over the wire"
        assert mongo_wire.frames["OP_MSG"] >= before + 2
        assert mongo_wire.commands["insert"] == inserts + 1
        assert mongo_wire.commands["find"] == finds + 1
    finally:
        await store.close()
    assert mongo_wire.frames["OP_MSG"] > frames
    # and the stand-in's database holds the BSON the driver sent
    [db_name] = [n for n in mongo_wire.client.list_database_names() if store._db.name == n]
    assert mongo_wire.db(db_name).users.find_one({"_id": "U1"})["name"] == "over the wire"


async def test_a_large_query_is_read_through_get_more(wire_store, mongo_wire):  # noqa: F811
    for i in range(250):
        await wire_store.store(Team(str(i), members={"U1"}))
    get_mores = mongo_wire.commands["getMore"]
    teams = await wire_store.query(Team, [("members", "U1")])
    assert sorted(int(t.github_team_id) for t in teams) == list(range(250))
    assert mongo_wire.commands["getMore"] > get_mores  # first batch is 101 documents


def test_legacy_op_query_handshake_gets_an_op_reply(mongo_wire):  # noqa: F811
    """Drivers before OP_MSG-handshakes send the first isMaster as OP_QUERY on admin.$cmd."""
    query = bson.encode({"isMaster": 1})
    body = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query
    with socket.create_connection(("127.0.0.1", mongo_wire.port), timeout=5) as sock:
        sock.sendall(struct.pack("<iiii", 16 + len(body), 7, 0, 2004) + body)
        header = sock.recv(16, socket.MSG_WAITALL)
        length, _, response_to, opcode = struct.unpack("<iiii", header)
        payload = sock.recv(length - 16, socket.MSG_WAITALL)
    assert (opcode, response_to) == (1, 7)
    reply = bson.decode(payload[20:])
    assert reply["ok"] == 1 and reply["maxWireVersion"] >= 6


async def test_errors_have_mongodb_shape(wire_store):
    from pymongo.errors import DuplicateKeyError, OperationFailure

    with pytest.raises(OperationFailure) as unknown:
        await wire_store._db.command("noSuchCommand")
    assert unknown.value.code == 59 and "no such command" in str(unknown.value)
    await wire_store._db.users.insert_one({"_id": "X"})
    with pytest.raises(DuplicateKeyError) as dup:  # raised by the driver from writeErrors
        await wire_store._db.users.insert_one({"_id": "X"})
    assert dup.value.code == 11000


async def test_an_unacknowledged_write_gets_no_reply_and_lands(wire_store, mongo_wire):  # noqa: F811
    """w=0 sets OP_MSG's moreToCome flag: the server must not answer (the driver reads none)."""
    from pymongo import WriteConcern

    coll = wire_store._db.get_collection("scratch", write_concern=WriteConcern(w=0))
    await coll.insert_one({"_id": "fire-and-forget"})
    assert await wire_store._db.scratch.find_one({"_id": "fire-and-forget"}) == {"_id": "fire-and-forget"}


def test_the_contract_suite_runs_the_same_tests_on_mongo_wire_as_on_sqlite():
    """Must show 1: every contract test collected for sqlite is collected for ``mongo-wire``
    (and its fixture never skips, unlike ``mongodb-real``)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/contract"],
        capture_output=True, text=True, timeout=120, cwd=ADAPTER_DIR.parents[1], check=True,
    ).stdout
    ids = [line for line in out.splitlines() if "::" in line and "[" in line]

    def on(backend: str) -> list[str]:
        return sorted(i.replace(backend, "BACKEND") for i in ids if backend in i.split("[", 1)[1])

    assert len(on("mongo-wire")) >= 30 and on("mongo-wire") == on("sqlite")


# ---- what the real driver does on a broken connection --------------------------------------


async def test_a_lost_write_answer_is_storage_unavailable_and_the_write_is_whole(wire_store, mongo_wire):  # noqa: F811
    """A standalone offers no retryable writes: the driver does not resend, nothing is doubled."""
    mongo_wire.fail_next("insert", "drop-after")
    with pytest.raises(StorageUnavailable):
        await wire_store.store(User("U1"))
    assert (await wire_store.retrieve(User, "U1")).version == 1  # applied once, whole
    mongo_wire.fail_next("findAndModify", "drop-after")
    with pytest.raises(StorageUnavailable):
        await wire_store.increment(User, "U1", "karma", 5)
    assert (await wire_store.retrieve(User, "U1")).karma == 6  # once, not twice
    mongo_wire.fail_next("findAndModify", "drop-before")
    with pytest.raises(StorageUnavailable):
        await wire_store.increment(User, "U1", "karma", 5)
    assert (await wire_store.retrieve(User, "U1")).karma == 6  # not applied


async def test_a_read_survives_one_dropped_connection(wire_store, mongo_wire):  # noqa: F811
    """PyMongo retries a read once on a new connection (retryReads); mongomock never fails."""
    await wire_store.store(User("U1", name="still here"))
    finds = mongo_wire.commands["find"]
    mongo_wire.fail_next("find", "drop-before")
    assert (await wire_store.retrieve(User, "U1")).name == "still here"
    assert mongo_wire.commands["find"] == finds + 1  # the dropped one never ran; the retry did


# ---- close() is awaited, and no motor-only API is used -------------------------------------


async def test_close_is_awaited_closes_every_connection_and_ends_sessions(mongo_wire):  # noqa: F811
    """A ``close()`` left un-awaited leaves the sockets open and warns "never awaited"."""
    ends = mongo_wire.commands["endSessions"]
    store = await open_wire(mongo_wire)
    await store.store(User("U1"))  # a pooled connection and a server session are in use
    assert mongo_wire.open_connections >= 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await store.close()
        gc.collect()
    never_awaited = [w for w in caught if issubclass(w.category, RuntimeWarning) and "never awaited" in
                     str(w.message)]
    assert never_awaited == []
    assert await wait_for(lambda: mongo_wire.open_connections == 0), "the driver's sockets stayed open"
    assert mongo_wire.commands["endSessions"] == ends + 1


def _attributes_used(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
    return names


# Same name, different shape (checked with inspect on motor 3.7 / PyMongo 4.20): motor returns
# a cursor or runs synchronously where PyMongo's AsyncMongoClient needs an ``await``
# (``close`` on the client, ``aggregate``, ``list_indexes``, ``watch``),
# or the reverse (``start_session`` is a coroutine in motor only). The adapter may use one only
# where it handles both shapes; ``close`` is (it awaits the result when awaitable, and
# ``test_close_is_awaited...`` proves it on the real client).
SHAPE_DIFFERS = {"close", "aggregate", "list_indexes", "watch", "start_session"}
HANDLED = {"close"}


def test_the_adapter_uses_no_motor_only_api():
    motor = pytest.importorskip("motor.motor_asyncio")
    from pymongo.asynchronous import collection, command_cursor, cursor, database, mongo_client

    pairs = [
        (motor.AsyncIOMotorClient, mongo_client.AsyncMongoClient),
        (motor.AsyncIOMotorDatabase, database.AsyncDatabase),
        (motor.AsyncIOMotorCollection, collection.AsyncCollection),
        (motor.AsyncIOMotorCursor, cursor.AsyncCursor),
        (motor.AsyncIOMotorCommandCursor, command_cursor.AsyncCommandCursor),
    ]
    motor_only = set().union(*(set(dir(m)) - set(dir(p)) for m, p in pairs))
    assert {"fetch_next", "next_object", "each", "get_io_loop"} <= motor_only  # the check sees motor
    used = _attributes_used(ADAPTER_DIR)
    assert used & motor_only == set(), "motor-only API: AsyncMongoClient has no such attribute"
    assert (used & SHAPE_DIFFERS) - HANDLED == set(), "an API whose shape differs from motor's"


def test_the_static_check_notices_a_motor_only_call(tmp_path):
    """The check above can fail: the same walk finds ``fetch_next`` in a module using it."""
    source = "async def f(c):\n    while await c.fetch_next:\n        c.next_object()\n"
    (tmp_path / "m.py").write_text(source)
    assert {"fetch_next", "next_object"} <= _attributes_used(tmp_path)


# ---- differences between mongomock-motor and the driver, now handled -----------------------


@pytest.fixture(params=["mongomock", "mongo-wire"])
async def either(request):
    if request.param == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        store = await MongoStore.open(AsyncMongoMockClient(), f"rocket_{uuid.uuid4().hex[:8]}")
    else:
        store = await open_wire(request.getfixturevalue("mongo_wire"))
    yield store
    await store.close()


async def test_values_bson_cannot_encode_are_invalid_input_and_write_nothing(either):
    with pytest.raises(InvalidInput):
        await either.store(User("U1", karma=2**70))
    with pytest.raises(InvalidInput):
        await either.store(User("U2", name="lone \ud800 surrogate"))
    assert await either.query(User) == []


async def test_reads_for_unencodable_values_find_nothing(either):
    await either.store(User("U1", name="ok"))
    with pytest.raises(NotFound):
        await either.retrieve(User, "\ud800")
    assert await either.query(User, [("name", "\ud800")]) == []
    assert await either.query(User, [("karma", 2**70)]) == []
    assert [u.slack_id for u in await either.query_or(User, [("name", "\ud800"), ("name", "ok")])] == ["U1"]
    assert await either.query_or(User, [("name", "\ud800")]) == []
    assert [u.slack_id for u in await either.bulk_retrieve(User, ["\ud800", "U1"])] == ["U1"]
    assert await either.delete(User, "\ud800") is False
    with pytest.raises(InvalidInput):
        await either.increment(User, "U1", "karma", 2**64)
    with pytest.raises(InvalidInput):
        await either.acquire_lease("event-\ud800", "worker", 60, 0)
    await either.release_lease("event-\ud800", "worker")  # nothing to release


async def test_a_record_over_16_mb_is_invalid_input(wire_store):
    """mongomock-motor stores it; the driver refuses to encode it (DocumentTooLarge)."""
    with pytest.raises(InvalidInput):
        await wire_store.store(User("U1", bio="x" * (17 * 1024 * 1024)))
    with pytest.raises(NotFound):
        await wire_store.retrieve(User, "U1")


async def test_increment_past_int64_is_refused_and_keeps_the_value(wire_store):
    """mongomock-motor makes a Python int past 2**63; MongoDB refuses the $inc."""
    await wire_store.store(User("U1", karma=2**63 - 2))
    assert await wire_store.increment(User, "U1", "karma", 1) == 2**63 - 1
    with pytest.raises(InvalidInput):
        await wire_store.increment(User, "U1", "karma", 1)
    got = await wire_store.retrieve(User, "U1")
    assert got.karma == 2**63 - 1 and got.version == 2


async def test_ping_is_bounded_when_the_server_is_down_and_recovers():
    server = MongoWireStandIn().start()
    try:
        store = await open_wire(server)
        await store.ping()
        server.stop()
        for _ in range(2):  # the first meets a closed socket; the next waits on server selection
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                await store.ping()
            waited = time.monotonic() - started
            assert waited < PING_TIMEOUT + 2, f"ping waited {waited:.1f}s with the server down"
        server.start()
        await store.ping()  # the same client reconnects once the server is back
        await store.store(User("U1"))
        await store.close()
    finally:
        server.shutdown()


# ---- documents written before folded lookup keys existed (issue 15) --------------------------


async def test_documents_without_folded_keys_are_backfilled_on_open_and_found(mongo_wire):  # noqa: F811
    """Documents as a Rocket without folded lookups wrote them (no ``_fold_*`` field), put over
    the wire with the driver itself: once a store opens the database, case-insensitive lookups
    by GitHub login and team slug find them, and a second open has nothing left to fill."""
    from pymongo import AsyncMongoClient

    db_name = f"rocket_{uuid.uuid4().hex[:8]}"
    raw: AsyncMongoClient = AsyncMongoClient(mongo_wire.url(db_name))
    try:
        await raw[db_name].users.insert_many([
            {"_id": "UOLD1", "slack_id": "UOLD1", "name": "Old", "github": "OldLogin", "version": 3},
            {"_id": "UOLD2", "slack_id": "UOLD2", "name": "No GitHub", "version": 1},  # no github field
        ])
        await raw[db_name].teams.insert_one({"_id": "77", "github_team_id": "77",
                                             "github_team_name": "Old-Team", "members": ["5"], "version": 2})
        assert await raw[db_name].users.count_documents({"_fold_github": {"$exists": True}}) == 0
        store = await MongoStore.open(raw, db_name)
        assert [u.slack_id for u in await store.query(User, [("github", "oldlogin")])] == ["UOLD1"]
        assert [u.slack_id for u in await store.query(User, [("github", "OLDLOGIN")])] == ["UOLD1"]
        teams = await store.query(Team, [("github_team_name", "old-team")])
        assert [t.github_team_id for t in teams] == ["77"]
        assert (await store.retrieve(User, "UOLD1")).version == 3  # a shadow, not a change
        assert await raw[db_name].users.count_documents({"_fold_github": {"$exists": False}}) == 0
        assert await store.backfill_folds() == 0  # the next start finds nothing to fill
    finally:
        await raw.close()
