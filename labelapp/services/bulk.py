"""Fast bulk inserts inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

SQLAlchemy's ORM bulk insert spends most of a million-row import building parameter dicts;
the drivers' own bulk paths are 5-10x faster, and they still run in the caller's transaction,
so an import stays all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

CHUNK = 50_000


def sqlite_timestamp(value: datetime) -> str:
    """The text form SQLAlchemy's SQLite DateTime writes and reads back."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_insert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order; JSON already serialized) into ``table``."""
    connection = session.connection()
    dialect = connection.dialect.name
    raw = connection.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("no DBAPI connection behind the session")
    cursor = raw.cursor()
    try:
        if dialect == "postgresql":
            _copy_postgres(cursor, table, columns, rows, on_chunk)
        else:
            _executemany(cursor, table, columns, rows, on_chunk)
    finally:
        cursor.close()


class Constant:
    """A value repeated on every row (no list of a million copies)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _chunk(values: Any, start: int, stop: int) -> list[Any]:
    if isinstance(values, Constant):
        return [values.value] * (stop - start)
    if hasattr(values, "iloc"):  # a pandas Series: convert only this slice to Python objects
        part = values.iloc[start:stop]
        return part.astype(object).where(part.notna(), None).tolist()
    if hasattr(values, "tolist"):  # numpy: Python ints (sqlite3 would store numpy ints as blobs)
        return values[start:stop].tolist()
    return list(values[start:stop])


def bulk_insert_columns(
    session: Session,
    table: str,
    columns: dict[str, Any],
    length: int,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Insert ``length`` rows given column-wise: a pandas Series, a list, or a :class:`Constant`
    per column (None/NA for NULL; JSON and timestamps already as text).

    Columns are turned into rows one chunk at a time, so memory stays flat. On PostgreSQL each
    chunk becomes CSV in Arrow's C writer and goes to ``COPY ... (FORMAT csv)``: Python never
    formats a row, which is what makes a million-row import fast.
    """
    connection = session.connection()
    names = list(columns)
    raw = connection.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("no DBAPI connection behind the session")
    if connection.dialect.name != "postgresql":
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        cursor = raw.cursor()
        try:
            for start in range(0, length, CHUNK):
                stop = min(length, start + CHUNK)
                parts = [_chunk(columns[n], start, stop) for n in names]
                cursor.executemany(sql, list(zip(*parts, strict=True)))
                if on_chunk:
                    on_chunk(stop - start)
        finally:
            cursor.close()
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, length, CHUNK):
            stop = min(length, start + CHUNK)
            part = pa.table({n: pa.array(_chunk(columns[n], start, stop)) for n in names})
            sink = pa.BufferOutputStream()
            # Nulls are written empty and unquoted, values quoted: COPY csv reads exactly that
            # as NULL versus text (so an empty string stays an empty string).
            pacsv.write_csv(part, sink, options)
            copy.write(sink.getvalue().to_pybytes())
            if on_chunk:
                on_chunk(stop - start)


def _copy_postgres(cursor, table, columns, rows, on_chunk) -> None:
    column_list = ", ".join(columns)
    done = 0
    with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if on_chunk and done % CHUNK == 0:
                on_chunk(CHUNK)
    if on_chunk and done % CHUNK:
        on_chunk(done % CHUNK)


def _executemany(cursor, table, columns, rows, on_chunk) -> None:
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            cursor.executemany(sql, batch)
            if on_chunk:
                on_chunk(len(batch))
            batch = []
    if batch:
        cursor.executemany(sql, batch)
        if on_chunk:
            on_chunk(len(batch))
