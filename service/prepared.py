"""Statements that SQLAlchemy compiles once per dialect and that run straight on the DBAPI cursor.

For the few statements every submission runs (the duplicate check, the insert, its audit row),
SQLAlchemy's per-execution work (an execution context, a result object with its metadata)
cost more CPU than the statements did in SQLite: 0.2 of the 1.7 ms a submission took under
gunicorn. The statement is still written in SQLAlchemy and compiled by it, and each value goes
through the bind processor its column type has for the dialect (JSON, SQLite's dates), so the
database receives what `Connection.execute` would send, in the connection's transaction (begun
here as `Connection.execute` begins one). What is skipped: SQLAlchemy's events and its
statement logging.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ClauseElement, Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    """The bound parameters in the order of a positional paramstyle's placeholders."""
    positional: bool
    fixed: dict[str, Any]
    """Values the statement carries itself (a literal status, a LIMIT)."""
    processors: dict[str, Callable[[Any], Any]]

    def values(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.fixed, **params}
        for name, process in self.processors.items():
            merged[name] = process(merged[name])
        return [merged[name] for name in self.names] if self.positional else merged


class Prepared:
    """One Core statement; run it with the parameters `Connection.execute` would take.

    An INSERT is compiled for the set of columns given, as SQLAlchemy does, so a caller that
    gives other columns gets its own compiled form rather than a silently shorter insert. Columns
    with a default computed in Python must be given.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[Dialect, frozenset[str]], _Compiled] = {}

    def _for(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        key = (dialect, keys)
        if key not in self._compiled:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=sorted(keys)))
            if missing := [*compiled.insert_prefetch, *compiled.update_prefetch]:
                # Connection.execute would compute those defaults; a prepared statement is given every value.
                raise ValueError(f"give a value for {', '.join(column.key for column in missing)}")
            binds = compiled.binds
            self._compiled[key] = _Compiled(
                sql=compiled.string,
                names=tuple(compiled.positiontup or ()),
                positional=bool(dialect.positional),
                fixed={name: bind.effective_value for name, bind in binds.items() if not bind.required},
                processors={name: process for name, bind in binds.items()
                            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect))},
            )
        return self._compiled[key]

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run it once; the rows it returns (an INSERT's RETURNING, a SELECT), or []."""
        compiled = self._for(conn.dialect, frozenset(params))
        cursor = _cursor(conn)
        try:
            cursor.execute(compiled.sql, compiled.values(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per set of parameters (all with the same keys), as the driver's executemany."""
        compiled = self._for(conn.dialect, frozenset(params[0]))
        cursor = _cursor(conn)
        try:
            cursor.executemany(compiled.sql, [compiled.values(p) for p in params])
        finally:
            cursor.close()


def _cursor(conn: Connection) -> Any:
    """A DBAPI cursor inside the connection's transaction, which is begun first if need be."""
    if not conn.in_transaction():
        conn.begin()
    return conn.connection.cursor()
