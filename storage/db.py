"""Engine and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from storage.crypto import Keyring, attach_keyring

T = TypeVar("T")
#: What synchronous storage code runs its statements on: a connection
#: (:meth:`Database.run_transaction`, :meth:`Database.run_read`) or an ORM session.
SyncExecutor = Connection | Session

#: What an unreachable or failing database raises, for adapters that show a "try later" page.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    DBAPIError,
    OSError,
    TimeoutError,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA foreign_keys=ON",
        "PRAGMA journal_mode=WAL",
        "PRAGMA busy_timeout=30000",
        "PRAGMA synchronous=FULL",
    ):
        cursor.execute(pragma)
    cursor.close()


IMMEDIATE = "samverkan_begin_immediate"


def _begin(conn: Any) -> None:
    # Writes (Database.transaction) take the write lock at BEGIN, so read-modify-write
    # transactions cannot lose updates; reads begin deferred and never wait for a writer (WAL).
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by its owner only, if it is new.

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    """The per-connection pragmas, and BEGIN (IMMEDIATE) issued by us, on a SQLite engine."""
    event.listen(engine, "connect", _sqlite_pragmas)
    # pysqlite's own transaction handling is turned off so BEGIN IMMEDIATE is ours.
    event.listen(
        engine, "connect", lambda dbapi_conn, _r: setattr(dbapi_conn, "isolation_level", None)
    )
    event.listen(engine, "begin", _begin)


def _sqlite_writer(url: URL, keyring: Keyring) -> Engine:
    """A synchronous engine on the same SQLite file as ``url``, with the same settings."""
    engine = create_sync_engine(url.set(drivername="sqlite+pysqlite"), connect_args={"timeout": 30})
    _configure_sqlite(engine)
    attach_keyring(engine, keyring)
    return engine


def _read_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in a SQLite read transaction (BEGIN, deferred), in the calling thread."""
    with engine.connect() as connection:
        return work(connection)  # rolled back on close: a read has nothing to commit


class BatchedWork(ABC, Generic[T]):
    """A work for :meth:`Database.run_transaction` whose statements can run together with
    those of the other works of its class in the same transaction.

    The works of one class in a group are handed to :meth:`start` (its statements read or
    write for all of them at once; it returns what they share), then each :meth:`run` works
    on that, and :meth:`finish` runs the statements left for all of them (e.g. what they
    changed, a statement per kind of change). A work alone goes through the same three steps.
    """

    @classmethod
    @abstractmethod
    def start(cls, connection: Connection, works: Sequence[Any]) -> Any:
        """The statements of ``works`` (all of this class) that run first; what they share."""

    @abstractmethod
    def run(self, connection: Connection, shared: Any) -> T:
        """This work, on what :meth:`start` returned; its result."""

    @classmethod
    @abstractmethod
    def finish(cls, connection: Connection, shared: Any) -> None:
        """The statements of the works that run last."""


#: The most works :meth:`Database.run_transaction` commits together.
MAX_GROUP = 64
_Outcome = tuple[bool, Any]  # (True, result) or (False, the exception raised)
_Work = Callable[[Connection], Any] | BatchedWork[Any]


def _run_all(connection: Connection, works: Sequence[_Work]) -> list[Any]:
    """The works' results: plain ones called in turn, batched ones a class at a time."""
    results: list[Any] = [None] * len(works)
    batches: dict[type[BatchedWork[Any]], list[int]] = {}
    for n, work in enumerate(works):
        if isinstance(work, BatchedWork):
            batches.setdefault(type(work), []).append(n)
        else:
            results[n] = work(connection)
    for kind, indexes in batches.items():
        batch = [cast(BatchedWork[Any], works[n]) for n in indexes]
        shared = kind.start(connection, batch)
        for n, work in zip(indexes, batch, strict=True):
            results[n] = work.run(connection, shared)
        kind.finish(connection, shared)
    return results


def _run_works(connection: Connection, works: list[_Work]) -> list[_Outcome]:
    """The works in the connection's transaction.

    Several works run together in one savepoint (:func:`_run_together`); when one raises, that
    is undone and each runs again in a savepoint of its own, so a work that raises is undone
    alone and its outcome is the exception. A single work runs without a savepoint, and its
    exception rolls the transaction back.
    """
    if len(works) == 1:
        return [(True, _run_all(connection, works)[0])]
    together = _run_together(connection, works)
    if together is not None:
        return together
    outcomes: list[_Outcome] = []
    for work in works:
        try:
            with connection.begin_nested():
                outcomes.append((True, _run_all(connection, [work])[0]))
        except Exception as error:  # noqa: BLE001 - handed to that work's caller
            outcomes.append((False, error))
    return outcomes


def _run_together(connection: Connection, works: list[_Work]) -> list[_Outcome] | None:
    """The works in one savepoint (two statements for all of them); their results, or None
    (everything they did undone) when one of them raised, to run them again one savepoint
    each."""
    savepoint = connection.begin_nested()
    try:
        results = _run_all(connection, works)
    except Exception:  # noqa: BLE001 - each work runs again alone, and its own error counts
        savepoint.rollback()
        return None
    savepoint.commit()
    return [(True, result) for result in results]


def _write_group(engine: Engine, works: list[_Work]) -> list[_Outcome]:
    """The works in one SQLite write transaction (BEGIN IMMEDIATE), in the calling thread."""
    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            return _run_works(connection, works)


#: Every PostgreSQL pool's settings: connect within 5 s, no statement over 30 s, and no
#: connection older than half an hour.
POSTGRES_CONNECT_ARGS: dict[str, Any] = {"timeout": 5, "command_timeout": 30}
POSTGRES_RECYCLE_SECONDS = 1800


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with the per-connection settings this service relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine.sync_engine)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_recycle=POSTGRES_RECYCLE_SECONDS,
        connect_args=POSTGRES_CONNECT_ARGS,
    )
    _ping_idle_connections(engine.sync_engine)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def _known_closed(dbapi_connection: Any) -> bool:
    """True when the driver already saw the connection end (asyncpg): no round trip."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    return driver is not None and bool(driver.is_closed())


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use when it has been idle (not before every use).

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every check-out: one more statement
    per transaction, under load too, where connections are never idle. Here a connection the
    driver already knows is closed (the server or the network ended it) is replaced at no cost,
    and one idle for :data:`PING_AFTER_IDLE_SECONDS` is pinged, so one left over from before a
    database restart is replaced instead of failing a request; a busy pool pays nothing. (A
    connection that breaks while in use fails that request.)
    """

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if _known_closed(dbapi_connection):
            raise DisconnectionError("the pooled connection was closed")
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as failed:  # noqa: BLE001 - any failure: a new connection instead
            raise DisconnectionError("the pooled connection did not answer") from failed

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


@dataclass
class Database:
    """The engine and a session factory, created by the composition root."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: The keys of the encrypted columns; attached to every engine of this handle.
    keyring: Keyring
    _writers: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    _probe: AsyncEngine | None = field(default=None, repr=False, compare=False)
    _reader: tuple[AsyncEngine, AsyncEngine] | None = field(default=None, repr=False, compare=False)
    _old_readers: list[AsyncEngine] = field(default_factory=list, repr=False, compare=False)
    _sync_writer: tuple[AsyncEngine, Engine] | None = field(default=None, repr=False, compare=False)
    _group: list[tuple[_Work, asyncio.Future[Any]]] = field(
        default_factory=list, repr=False, compare=False
    )
    _group_writer: asyncio.Task[None] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_url(cls, url: str, keyring: Keyring) -> Database:
        """A handle on the database at ``url`` whose encrypted columns use ``keyring``."""
        engine = create_engine(url)
        attach_keyring(engine, keyring)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False), keyring)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error.

        On SQLite the transaction holds the write lock from its start (BEGIN IMMEDIATE), and
        this process's writers queue for it here, in order, rather than polling the file lock
        in SQLite's busy handler, which sleeps up to 100 ms between tries.
        """
        if self.dialect != "sqlite":
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._writers, self.sessions() as session, session.begin():
            await session.connection(execution_options={IMMEDIATE: True})
            yield session

    async def run_transaction(self, work: Callable[[Connection], T] | BatchedWork[T]) -> T:
        """Run ``work`` (synchronous Core statements on a connection) in a write transaction;
        committed when this returns.

        For a short transaction that needs nothing from the event loop, and no ORM session
        (its bookkeeping costs more than the statements). Works that arrive while a
        transaction is being written wait and then run together in the next one, each in a
        savepoint of its own: a work that raises is undone alone and its caller gets the
        exception, and every caller returns only after the commit, so what a caller
        acknowledges is stored. Many writers at once then share one commit; one writer alone
        pays no more than a transaction of its own. When the commit fails, every work of the
        group fails with its error. The works of a group first run together in one savepoint;
        when one raises, that is undone and each runs again in its own: so a work may run
        twice (the first run undone) and must not act outside the transaction. The works of
        one :class:`BatchedWork` class share statements: a read for all of them, a write of
        all their changes.

        On SQLite a transaction runs in one worker thread on a synchronous connection to the
        same file (same pragmas, BEGIN IMMEDIATE, after this process's earlier writers): one
        thread hop, one ``BEGIN IMMEDIATE`` and one ``fsync`` for the group, where an async
        session makes several hops for every statement. On PostgreSQL (and an in-memory
        SQLite, which a second engine would not see) it runs on a pooled connection through
        ``run_sync``: one check-out, one ``BEGIN`` and one ``COMMIT`` (a WAL flush).
        """
        return cast(T, await self._grouped(work))

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous statements that only read) in one read transaction.

        On a SQLite file it runs in one worker thread on a synchronous connection (one thread
        hop for the whole read, where an async session makes several per statement; a read
        never waits for the writers, WAL). Elsewhere it runs through ``run_sync`` on a pooled
        connection; nothing ``work`` might write is kept. On PostgreSQL that is a pool of
        read-only connections in autocommit: one round trip per statement, no BEGIN and
        ROLLBACK around it, each statement seeing what was committed when it began (as in the
        default READ COMMITTED), and a write refused by the server. What ``work`` returns must
        not need the connection afterwards.
        """
        if self.dialect == "postgresql":
            async with self._postgres_reader().connect() as connection:
                return await connection.run_sync(work)
        if self.engine.url.database in (None, "", ":memory:"):
            async with self.engine.connect() as connection:
                return await connection.run_sync(work)
        return await asyncio.to_thread(_read_now, self._sync_engine(), work)

    async def _grouped(self, work: _Work) -> Any:
        """Queue ``work`` for the next transaction; its result once that has committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._group.append((work, future))
        if self._group_writer is None or self._group_writer.done():
            self._group_writer = asyncio.create_task(self._write_groups())
        # A caller cancelled meanwhile cancels only its future: the writer skips a done future,
        # and the work, once queued, commits (or not) with its group all the same.
        return await future

    async def _write_groups(self) -> None:
        """Commit the waiting works, a group at a time, until none are left."""
        while self._group:
            group, self._group = self._group[:MAX_GROUP], self._group[MAX_GROUP:]
            works = [work for work, _ in group]
            job = asyncio.ensure_future(self._write_one_group(works))
            with contextlib.suppress(BaseException):  # the write's own outcome counts
                await asyncio.shield(job)
            if not job.done():  # this task was cancelled: let the write finish all the same
                await asyncio.wait([job])
            error = asyncio.CancelledError() if job.cancelled() else job.exception()
            outcomes = job.result() if error is None else [(False, error)] * len(group)
            for (_, future), (succeeded, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if succeeded:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def _write_one_group(self, works: list[_Work]) -> list[_Outcome]:
        """One group's transaction: in a worker thread on a SQLite file, through run_sync
        elsewhere (holding this process's write lock on an in-memory SQLite)."""
        if self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            engine = self._sync_engine()
            async with self._writers:
                return await asyncio.to_thread(_write_group, engine, works)
        async with contextlib.AsyncExitStack() as stack:
            if self.dialect == "sqlite":
                await stack.enter_async_context(self._writers)
            connection = await stack.enter_async_context(self.engine.connect())
            if self.dialect == "sqlite":
                await connection.execution_options(**{IMMEDIATE: True})
            async with connection.begin():
                return await connection.run_sync(_run_works, works)
        raise AssertionError("unreachable")  # for type checkers: the block returns

    def _postgres_reader(self) -> AsyncEngine:
        """Read-only, autocommit connections to this engine's PostgreSQL, made on first use."""
        if self._reader is None or self._reader[0] is not self.engine:
            if self._reader is not None:  # the engine was replaced (tests do that)
                self._old_readers.append(self._reader[1])
            reader = create_async_engine(
                self.engine.url,
                # A fixed pool: readers beyond it wait for a connection (a read is short)
                # rather than open and close overflow connections under load.
                pool_size=10,
                max_overflow=0,
                pool_recycle=POSTGRES_RECYCLE_SECONDS,
                isolation_level="AUTOCOMMIT",
                connect_args={
                    **POSTGRES_CONNECT_ARGS,
                    "server_settings": {"default_transaction_read_only": "on"},
                },
            )
            _ping_idle_connections(reader.sync_engine)
            attach_keyring(reader, self.keyring)
            self._reader = (self.engine, reader)
        return self._reader[1]

    def _sync_engine(self) -> Engine:
        """A synchronous engine on this engine's SQLite file, made on first use."""
        if self._sync_writer is None or self._sync_writer[0] is not self.engine:
            self._close_writer()  # the engine was replaced (tests do that)
            self._sync_writer = (self.engine, _sqlite_writer(self.engine.url, self.keyring))
        return self._sync_writer[1]

    def _close_writer(self) -> None:
        if self._sync_writer is not None:
            self._sync_writer[1].dispose()
            self._sync_writer = None

    async def ping(self, seconds: float = 5.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``seconds``.

        The check opens a connection of its own, outside the pool: a server busy with every
        pooled connection is busy, not unreachable.
        """
        if self._probe is None:
            self._probe = create_async_engine(self.engine.url, poolclass=NullPool)
        try:
            async with asyncio.timeout(seconds), self._probe.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    async def close(self) -> None:
        if self._group_writer is not None and not self._group_writer.done():
            await asyncio.wait([self._group_writer])  # the waiting writes first
        if self._probe is not None:
            await self._probe.dispose()
        for reader in [*self._old_readers, *([self._reader[1]] if self._reader else [])]:
            await reader.dispose()
        self._reader, self._old_readers = None, []
        self._close_writer()
        await self.engine.dispose()
