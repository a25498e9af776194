"""Engine and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
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


def _sqlite_writer(url: URL, keyring: Keyring) -> sessionmaker[Session]:
    """Synchronous sessions on the same SQLite file as ``url``, with the same settings."""
    engine = create_sync_engine(url.set(drivername="sqlite+pysqlite"), connect_args={"timeout": 30})
    _configure_sqlite(engine)
    attach_keyring(engine, keyring)
    return sessionmaker(engine, expire_on_commit=False)


def _read_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in a SQLite read transaction (BEGIN, deferred), in the calling thread."""
    with engine.connect() as connection:
        return work(connection)  # rolled back on close: a read has nothing to commit


def _write_now(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in a SQLite write transaction (BEGIN IMMEDIATE), in the calling thread."""
    with engine.connect() as connection:
        connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            return work(connection)


#: The most works :meth:`Database.run_grouped` commits together.
MAX_GROUP = 64
_Outcome = tuple[bool, Any]  # (True, result) or (False, the exception raised)


def _run_works(session: Session, works: list[Callable[[Session], Any]]) -> list[_Outcome]:
    """Each work in a savepoint of the session's transaction; a work that raises is undone alone."""
    outcomes: list[_Outcome] = []
    for work in works:
        try:
            with session.begin_nested():
                outcomes.append((True, work(session)))
        except Exception as error:  # noqa: BLE001 - handed to that work's caller
            outcomes.append((False, error))
    return outcomes


def _write_group(
    writer: sessionmaker[Session], works: list[Callable[[Session], Any]]
) -> list[_Outcome]:
    """The works in one SQLite write transaction (BEGIN IMMEDIATE), in the calling thread."""
    with writer() as session, session.begin():
        session.connection(execution_options={IMMEDIATE: True})
        return _run_works(session, works)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with the per-connection settings this service relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


@dataclass
class Database:
    """The engine and a session factory, created by the composition root."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: The keys of the encrypted columns; attached to every engine of this handle.
    keyring: Keyring
    _writers: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    _probe: AsyncEngine | None = field(default=None, repr=False, compare=False)
    _sync_writer: tuple[AsyncEngine, sessionmaker[Session]] | None = field(
        default=None, repr=False, compare=False
    )
    _group: list[tuple[Callable[[Session], Any], asyncio.Future[Any]]] = field(
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

    async def run_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous statements on a connection) in one write transaction;
        committed on success.

        For a short transaction of Core statements that needs nothing from the event loop (no
        ORM session: its bookkeeping costs more than the statements). On SQLite it runs in one
        worker thread on a synchronous connection to the same file (same pragmas, BEGIN
        IMMEDIATE, after this process's earlier writers): one thread hop for the whole
        transaction, where an async session makes several for every statement. On PostgreSQL
        (and an in-memory SQLite, which a second engine would not see) the same function runs
        on a pooled connection through ``run_sync``.
        """
        if self.dialect != "sqlite":
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)
        if self.engine.url.database in (None, "", ":memory:"):
            async with self._writers, self.engine.connect() as connection:
                await connection.execution_options(**{IMMEDIATE: True})
                async with connection.begin():
                    return await connection.run_sync(work)
        writer = self._sync_engine()
        async with self._writers:
            job = asyncio.ensure_future(asyncio.to_thread(_write_now, writer, work))
            try:
                return await asyncio.shield(job)
            finally:
                if not job.done():  # cancelled: the thread still holds the write lock
                    await asyncio.wait([job])

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous statements that only read) in one read transaction.

        On a SQLite file it runs in one worker thread on a synchronous connection (one thread
        hop for the whole read, where an async session makes several per statement; a read
        never waits for the writers, WAL). Elsewhere it runs through ``run_sync`` on a pooled
        connection. What ``work`` returns must not need the connection afterwards.
        """
        if self.dialect != "sqlite" or self.engine.url.database in (None, "", ":memory:"):
            async with self.engine.connect() as connection:
                return await connection.run_sync(work)
        return await asyncio.to_thread(_read_now, self._sync_engine(), work)

    async def run_grouped(self, work: Callable[[Session], T]) -> T:
        """:meth:`run_transaction` for many small writes at once: grouped.

        Works that arrive while a group is being written wait, and then run together in one
        transaction, each in a savepoint of its own (a work that raises is undone alone, and its
        caller gets the exception). Every caller returns only after the commit, so what a
        caller acknowledges is stored, as with :meth:`run_transaction`. On SQLite the group
        pays for one thread hop, one ``BEGIN IMMEDIATE`` and one ``fsync`` instead of one
        each; on PostgreSQL for one connection check-out and ping, one ``BEGIN`` and one
        ``COMMIT`` (a WAL flush). When the commit fails, every work of the group fails with
        its error. (An in-memory SQLite runs each work alone.)
        """
        if self.dialect == "sqlite" and self.engine.url.database in (None, "", ":memory:"):
            async with self.transaction() as session:
                return await session.run_sync(work)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._group.append((work, future))
        if self._group_writer is None or self._group_writer.done():
            self._group_writer = asyncio.create_task(self._write_groups())
        return await asyncio.shield(future)

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

    async def _write_one_group(self, works: list[Callable[[Session], Any]]) -> list[_Outcome]:
        """One group's transaction: in a worker thread on SQLite, through run_sync elsewhere."""
        if self.dialect != "sqlite":
            async with self.transaction() as session:
                return await session.run_sync(_run_works, works)
        writer = self._writer()
        async with self._writers:
            return await asyncio.to_thread(_write_group, writer, works)

    def _writer(self) -> sessionmaker[Session]:
        """Synchronous sessions on this engine's SQLite file, made on first use."""
        self._sync_engine()
        assert self._sync_writer is not None
        return self._sync_writer[1]

    def _sync_engine(self) -> Engine:
        """A synchronous engine on this engine's SQLite file, made on first use."""
        if self._sync_writer is None or self._sync_writer[0] is not self.engine:
            self._close_writer()  # the engine was replaced (tests do that)
            self._sync_writer = (self.engine, _sqlite_writer(self.engine.url, self.keyring))
        return self._sync_writer[1].kw["bind"]  # type: ignore[no-any-return]

    def _close_writer(self) -> None:
        if self._sync_writer is not None:
            self._sync_writer[1].kw["bind"].dispose()
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
        self._close_writer()
        await self.engine.dispose()
