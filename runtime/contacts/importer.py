"""Import a contact CSV into a campaign: read, check, merge, and report.

Steps, in order:

1. Detect the file's encoding and delimiter and read the header, before
   anything is written: a file that cannot be read changes nothing.
2. Record the upload, so every contact it touches can name it.
3. Read rows in batches of ``batch_size``, normalise each row (a bad row is
   rejected whole, with its line, column and reason), and merge the batch
   into the store. The next batch is read while the store writes the last
   one, so reading and writing overlap.
4. Save the upload's figures; if the store fails, mark the upload failed.
   Batches written before the failure stay, and each contact is whole.

Memory stays constant in the file's size: one batch in flight, one being
read, and at most ``MAX_REJECTIONS_KEPT`` rejections kept for the report (all
of them go to ``on_rejected``).

NOTE: duplicates of one file that land in different batches are merged by the
store, one conditional update each. On FerretDB 1.24 (SQLite backend) every
update scans the whole collection, so such files import far slower there than
on MongoDB. Grouping a file's rows by identifier on disk before writing would
avoid those updates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runtime.contacts.csvfile import CsvFormat, CsvReader, detect_format
from runtime.contacts.fields import ColumnMap, RowError
from runtime.log import campaign_log
from runtime.store import ContactStore
from runtime.store.models import Campaign, ContactRow, MergeCounts, utc_now

# Rows per store write. Larger batches spread the cost of a transaction or a
# round trip over more rows. A batch of 2,000 typical rows is under 1 MB, well
# below MongoDB's 48 MB maximum for one bulk write message.
DEFAULT_BATCH_SIZE = 2000
# Rejections kept in the report; a file of a million bad rows must not hold a
# million messages in memory.
MAX_REJECTIONS_KEPT = 10_000


@dataclass(frozen=True)
class Rejection:
    """One rejected row: its first line in the file, the column and the reason."""

    line: int
    column: str
    reason: str


@dataclass
class ImportReport:
    """Outcome figures of one import, for the command line and the API."""

    upload_id: str
    campaign: str
    source: str
    file_format: CsvFormat
    rows_read: int = 0
    inserted: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def add(self, counts: MergeCounts) -> None:
        self.inserted += counts.inserted
        self.merged += counts.merged
        self.unchanged += counts.unchanged


ProgressCallback = Callable[[int, int, int], None]
RejectionCallback = Callable[[Rejection], None]


async def import_csv(
    store: ContactStore,
    campaign_name: str,
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: ProgressCallback | None = None,
    on_rejected: RejectionCallback | None = None,
) -> ImportReport:
    """Import ``path`` into the campaign and return the report.

    ``on_progress(bytes_read, size_bytes, rows_read)`` runs after each batch.
    Raises CsvFormatError before writing anything when the file cannot be
    read, and CampaignNotFoundError when the campaign does not exist.
    """
    started = time.perf_counter()
    campaign = await store.get_campaign(campaign_name)
    file_format = await asyncio.to_thread(detect_format, path, encoding=encoding, delimiter=delimiter)

    with CsvReader(path, file_format) as reader:
        header = await asyncio.to_thread(reader.read_header)
        columns = ColumnMap(header, campaign)
        upload = await store.create_upload(campaign.name, path.name)
        report = ImportReport(upload.upload_id, campaign.name, path.name, file_format)
        report.ignored_columns = columns.ignored
        campaign_log.info(
            "importing %s into campaign %s as upload %s (%s)",
            path, campaign.name, upload.upload_id, file_format.describe(),
        )
        batcher = _Batcher(reader, columns, report, batch_size, on_rejected)
        try:
            await _write_batches(store, campaign, upload.upload_id, batcher, report, on_progress)
        except BaseException:
            upload.status = "failed"
            raise
        else:
            upload.status = "finished"
        finally:
            report.elapsed_s = time.perf_counter() - started
            upload.finished_at = utc_now()
            upload.rows_read, upload.rejected = report.rows_read, report.rejected_rows
            upload.inserted, upload.merged, upload.unchanged = report.inserted, report.merged, report.unchanged
            await asyncio.shield(store.save_upload(upload))

    campaign_log.info(
        "imported upload %s into campaign %s: %d rows read, %d inserted, %d merged, %d unchanged, %d rejected in %.1f s",
        upload.upload_id, campaign.name, report.rows_read, report.inserted, report.merged,
        report.unchanged, report.rejected_rows, report.elapsed_s,
    )
    return report


async def _write_batches(
    store: ContactStore,
    campaign: Campaign,
    upload_id: str,
    batcher: _Batcher,
    report: ImportReport,
    on_progress: ProgressCallback | None,
) -> None:
    # One write in flight while the next batch is read. Batches are written
    # in file order, so a later row always merges over an earlier one.
    pending: asyncio.Future[MergeCounts] | None = None
    while True:
        batch = await asyncio.to_thread(batcher.next_batch)
        if pending is not None:
            report.add(await pending)
            pending = None
        if on_progress is not None:
            on_progress(batcher.reader.bytes_read, batcher.reader.size_bytes, report.rows_read)
        if batch is None:
            return
        if batch:
            pending = asyncio.ensure_future(store.merge_contacts(campaign, upload_id, batch))


class _Batcher:
    """Turn CSV records into batches of normalised rows, counting and reporting rejections."""

    def __init__(
        self,
        reader: CsvReader,
        columns: ColumnMap,
        report: ImportReport,
        batch_size: int,
        on_rejected: RejectionCallback | None,
    ) -> None:
        self.reader = reader
        self._records = reader.records()
        self._columns = columns
        self._report = report
        self._batch_size = batch_size
        self._on_rejected = on_rejected

    def next_batch(self) -> list[ContactRow] | None:
        """Return up to ``batch_size`` good rows, or None at the end of the file."""
        batch: list[ContactRow] = []
        normalise = self._columns.normalise
        for line, cells in self._records:
            self._report.rows_read += 1
            if isinstance(cells, str):
                self._report.rejected_rows += 1
                self._reject(Rejection(line, "", cells))
                continue
            try:
                batch.append(normalise(cells, line))
            except RowError as exc:
                for error in exc.errors:
                    self._reject(Rejection(line, error.column, error.reason))
                self._report.rejected_rows += 1
                continue
            if len(batch) >= self._batch_size:
                return batch
        return batch or None

    def _reject(self, rejection: Rejection) -> None:
        if len(self._report.rejections) < MAX_REJECTIONS_KEPT:
            self._report.rejections.append(rejection)
        if self._on_rejected is not None:
            self._on_rejected(rejection)
