"""Turn a contact CSV file into batches of normalised rows, with every rejection in file order.

:func:`read_batches` is the reading half of an import. It runs in a thread of
the importing process or in a worker process (runtime.contacts.worker), so it
takes only picklable arguments and opens the file itself. It also encodes
each batch's rows for the store (EncodedRows), so that work happens in the
worker process too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runtime.contacts.csvfile import CsvFormat, CsvReader
from runtime.contacts.fields import ColumnMap, RowError
from runtime.contacts.grouping import IdentifierGroups
from runtime.store.models import Campaign, ContactRow, EncodedRows


@dataclass(frozen=True)
class Rejection:
    """One rejected row: its first line in the file, the column and the reason."""

    line: int
    column: str
    reason: str


@dataclass
class RowBatch:
    """Good rows and rejections from one stretch of the file, in file order."""

    rows: EncodedRows = field(default_factory=lambda: EncodedRows.from_rows([]))
    rejections: list[Rejection] = field(default_factory=list)
    # Records read in this stretch, good and rejected.
    rows_read: int = 0
    rows_rejected: int = 0
    # File position after this stretch, for progress.
    bytes_read: int = 0


def read_batches(
    path: Path,
    file_format: CsvFormat,
    campaign: Campaign,
    *,
    batch_size: int,
    group_by_identifier: bool = False,
) -> Generator[RowBatch, None, None]:
    """Yield the file's rows in batches of about ``batch_size`` good rows.

    Without ``group_by_identifier`` each batch contains what the next
    ``batch_size`` records of the file gave, in file order. With it, batches first carry only rejections and
    counts while every good row is spooled to a temporary file, and then carry
    the rows ordered by each identifier's first line, all rows of one
    identifier in the same batch (see runtime.contacts.grouping).

    Error handling: a bad row becomes a Rejection and reading goes on;
    CsvFormatError from CsvReader (text that does not decode) ends the
    iteration.
    """
    with CsvReader(path, file_format) as reader:
        header = reader.read_header()
        stretches = _normalise(reader, ColumnMap(header, campaign), batch_size)
        if not group_by_identifier:
            for batch, rows in stretches:
                batch.rows = EncodedRows.from_rows(rows)
                yield batch
            return

        with (
            tempfile.TemporaryDirectory(prefix="outwire-import-") as directory,
            IdentifierGroups(Path(directory) / "rows.db") as groups,
        ):
            for batch, rows in stretches:
                groups.add(rows)
                yield batch
            # NOTE: bytes_read stays at the file's size while the grouped rows
            # are written, so a progress display shows 100% for that phase.
            for grouped in groups.grouped_batches(batch_size):
                yield RowBatch(rows=EncodedRows.from_rows(grouped), bytes_read=reader.bytes_read)


def _normalise(
    reader: CsvReader, columns: ColumnMap, batch_size: int
) -> Iterator[tuple[RowBatch, list[ContactRow]]]:
    """Yield each stretch's counts and rejections (``rows`` left empty) and its good rows."""
    normalise = columns.normalise
    batch = RowBatch()
    rows: list[ContactRow] = []
    for line, cells in reader.records():
        batch.rows_read += 1
        if isinstance(cells, str):
            batch.rows_rejected += 1
            batch.rejections.append(Rejection(line, "", cells))
        else:
            try:
                rows.append(normalise(cells, line))
            except RowError as exc:
                batch.rows_rejected += 1
                batch.rejections.extend(Rejection(line, error.column, error.reason) for error in exc.errors)
        # Counting rejected rows too keeps a file of bad rows from growing
        # one batch's rejection list without bound.
        if batch.rows_read >= batch_size:
            batch.bytes_read = reader.bytes_read
            yield batch, rows
            batch = RowBatch()
            rows = []

    if batch.rows_read:
        batch.bytes_read = reader.bytes_read
        yield batch, rows
