"""Group a file's rows by identifier on disk, so a store merges each contact once.

Without grouping, a duplicate whose first row went out in an earlier batch
reaches the store as a merge into a contact that this import just wrote.
MongoDB does that with one conditional update per contact. FerretDB 1.24 with
its SQLite backend scans the whole collection for each such update, so a file
with 5% duplicates imports at a small fraction of its insert rate there.

:class:`IdentifierGroups` spools every good row into a temporary SQLite file.
It reads them back ordered by the line where each identifier first appears,
then by line. So every identifier's rows arrive together, and new contacts
still get upload sequence numbers in file order. Memory stays constant
because rows live on disk and SQLite works through its page cache (2 MiB by
default).
"""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from runtime.store.models import ContactRow

# The spool is private and thrown away after the import, so it needs neither
# a journal nor fsync.
_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE rows (
    seq INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL,
    line INTEGER NOT NULL,
    fields BLOB NOT NULL
);
"""

# Each row is joined to the first row of its identifier. Ordering by the
# first row's seq, then by the row's own, puts an identifier's rows together
# in file order. The (identifier, seq) index serves both lookups.
_GROUPED_QUERY = """
SELECT later.identifier, later.line, later.fields
FROM rows AS first
JOIN rows AS later ON later.identifier = first.identifier
WHERE NOT EXISTS (
    SELECT 1 FROM rows AS earlier WHERE earlier.identifier = first.identifier AND earlier.seq < first.seq
)
ORDER BY first.seq, later.seq
"""


class IdentifierGroups:
    """Temporary on-disk spool of contact rows, read back grouped by identifier.

    Call :meth:`add` for every batch in file order, then
    :meth:`grouped_batches` once. Field values go through ``marshal``, which
    keeps str, int (of any size), float and bool exactly. The spool is
    private to this process, so nothing untrusted is ever unmarshalled.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def add(self, rows: list[ContactRow]) -> None:
        """Append ``rows``, which follow every row added before them in the file."""
        dumps = marshal.dumps
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO rows (identifier, line, fields) VALUES (?, ?, ?)",
            [(row.identifier, row.line, dumps(row.fields)) for row in rows],
        )
        self._db.execute("COMMIT")

    def grouped_batches(self, batch_size: int) -> Iterator[list[ContactRow]]:
        """Yield every row added, grouped by identifier, about ``batch_size`` rows per batch.

        A batch is cut only between two identifiers, so it may contain a few
        more than ``batch_size`` rows.
        """
        self._db.execute("CREATE INDEX rows_identifier ON rows (identifier, seq)")
        loads = marshal.loads
        batch: list[ContactRow] = []
        previous = None
        for identifier, line, fields in self._db.execute(_GROUPED_QUERY):
            if len(batch) >= batch_size and identifier != previous:
                yield batch
                batch = []
            batch.append(ContactRow(identifier=identifier, fields=loads(fields), line=line))
            previous = identifier
        if batch:
            yield batch

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IdentifierGroups:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
