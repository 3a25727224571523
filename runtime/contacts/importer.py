"""Import a contact CSV into a campaign: read, check, merge, and report.

Steps, in order:

1. Detect the file's encoding and delimiter and read the header, before
   anything is written: a file that cannot be read changes nothing.
2. Record the upload, so every contact it touches can name it.
3. Read rows in batches of ``batch_size``, normalise each row (a bad row is
   rejected whole, with its line, column and reason), and merge the batch
   into the store. The next batch is read while the store writes the last
   one, so reading and writing overlap. Large files are read and normalised
   in a worker process (runtime.contacts.worker), so the import uses two
   cores. For a store that prefers it (MongoDB), the rows are first grouped
   by identifier on disk (runtime.contacts.grouping), so each contact is
   written once per file and nothing is written before the whole file is read.
4. Save the upload's figures; if the store fails, mark the upload failed.
   Batches written before the failure stay, and each contact is whole.

Memory stays constant in the file's size: one batch in flight, one being
read, and at most ``MAX_REJECTIONS_KEPT`` rejections kept for the report (all
of them go to ``on_rejected``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from runtime.contacts.batches import Rejection, RowBatch, read_batches
from runtime.contacts.csvfile import CsvFormat, CsvReader, detect_format
from runtime.contacts.fields import ColumnMap
from runtime.contacts.worker import BatchWorker, WorkerJob
from runtime.log import campaign_log
from runtime.store import ContactStore
from runtime.store.models import Campaign, MergeCounts, utc_now

__all__ = ["DEFAULT_BATCH_SIZE", "ImportReport", "Rejection", "import_csv"]

# Rows per store write. Larger batches spread the cost of a transaction or a
# round trip over more rows. A batch of 2,000 typical rows is under 1 MB, well
# below MongoDB's 48 MB maximum for one bulk write message.
DEFAULT_BATCH_SIZE = 2000
# Rejections kept in the report; a file of a million bad rows must not hold a
# million messages in memory.
MAX_REJECTIONS_KEPT = 10_000
# Files from this size on are read in a worker process when two or more CPUs
# are available. Starting the process (a new interpreter and its imports)
# took 0.12 s on a 2-core machine. A smaller file, about 13,000 rows of
# bench/import.py's shape, imports in under a second in one process anyway.
WORKER_PROCESS_MIN_BYTES = 1024 * 1024


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
    worker_process: bool | None = None,
    on_progress: ProgressCallback | None = None,
    on_rejected: RejectionCallback | None = None,
) -> ImportReport:
    """Import ``path`` into the campaign and return the report.

    ``worker_process`` chooses where rows are read and normalised: True in a
    worker process, False in a thread of this one, None (the default) in a
    worker process for files of at least ``WORKER_PROCESS_MIN_BYTES`` when
    two or more CPUs are available. ``on_progress(bytes_read, size_bytes,
    rows_read)`` runs after each batch. Raises CsvFormatError before writing
    anything when the file cannot be read, and CampaignNotFoundError when the
    campaign does not exist.
    """
    started = time.perf_counter()
    campaign = await store.get_campaign(campaign_name)
    file_format = await asyncio.to_thread(detect_format, path, encoding=encoding, delimiter=delimiter)
    header = await asyncio.to_thread(_read_header, path, file_format)
    columns = ColumnMap(header, campaign)

    upload = await store.create_upload(campaign.name, path.name)
    report = ImportReport(upload.upload_id, campaign.name, path.name, file_format)
    report.ignored_columns = columns.ignored
    if worker_process is None:
        worker_process = path.stat().st_size >= WORKER_PROCESS_MIN_BYTES and _available_cpus() >= 2
    campaign_log.info(
        "importing %s into campaign %s as upload %s (%s, %s)",
        path, campaign.name, upload.upload_id, file_format.describe(),
        "worker process" if worker_process else "one process",
    )

    writer = _BatchWriter(store, campaign, upload.upload_id, report, on_rejected)
    source: _BatchSource | None = None
    try:
        source = _BatchSource(
            path, file_format, campaign, batch_size=batch_size,
            group_by_identifier=store.prefers_grouped_rows, worker_process=worker_process,
        )
        await _import_batches(source, writer, path.stat().st_size, on_progress)
    except BaseException:
        upload.status = "failed"
        raise
    else:
        upload.status = "finished"
    finally:
        if source is not None:
            await asyncio.shield(source.close())
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


def _read_header(path: Path, file_format: CsvFormat) -> list[str]:
    with CsvReader(path, file_format) as reader:
        return reader.read_header()


def _available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


async def _import_batches(
    source: _BatchSource, writer: _BatchWriter, size_bytes: int, on_progress: ProgressCallback | None
) -> None:
    # One write in flight while the next batch is read. Batches are written
    # in the order read_batches yields them, so a later row of an identifier
    # always merges over an earlier one.
    pending: asyncio.Future[None] | None = None
    try:
        while True:
            batch = await source.next_batch()
            if pending is not None:
                # Shielded, so a cancelled import (Ctrl-C) still lets the write end
                # below and count its contacts; SQLite commits it either way.
                await asyncio.shield(pending)
                pending = None
            if batch is None:
                return
            writer.count(batch)
            if on_progress is not None:
                on_progress(batch.bytes_read, size_bytes, writer.report.rows_read)
            if batch.rows:
                pending = asyncio.ensure_future(writer.write(batch))
    finally:
        if pending is not None:
            # Reading failed or the import was cancelled while a write was in
            # flight. A store write cannot be stopped half-way, so let it end.
            await asyncio.gather(pending, return_exceptions=True)


class _BatchSource:
    """The RowBatches of one file, read in a thread or a worker process, one request at a time.

    Requests run on one dedicated thread, so ``close`` waits for a read that
    is still running (after a cancellation) instead of racing it.
    """

    def __init__(
        self,
        path: Path,
        file_format: CsvFormat,
        campaign: Campaign,
        *,
        batch_size: int,
        group_by_identifier: bool,
        worker_process: bool,
    ) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outwire-import-read")
        self._worker: BatchWorker | None = None
        if worker_process:
            self._worker = BatchWorker(WorkerJob(path, file_format, campaign, batch_size, group_by_identifier))
        else:
            self._batches = read_batches(
                path, file_format, campaign, batch_size=batch_size, group_by_identifier=group_by_identifier
            )

    async def next_batch(self) -> RowBatch | None:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._next_batch)

    def _next_batch(self) -> RowBatch | None:
        if self._worker is not None:
            return self._worker.next_batch()
        return next(self._batches, None)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._worker is not None:
            self._worker.close()
        else:
            self._batches.close()


class _BatchWriter:
    """Write batches to the store and add their counts and rejections to the report."""

    def __init__(
        self,
        store: ContactStore,
        campaign: Campaign,
        upload_id: str,
        report: ImportReport,
        on_rejected: RejectionCallback | None,
    ) -> None:
        self.report = report
        self._store = store
        self._campaign = campaign
        self._upload_id = upload_id
        self._on_rejected = on_rejected

    def count(self, batch: RowBatch) -> None:
        """Add the batch's rows read and rejections to the report."""
        self.report.rows_read += batch.rows_read
        self.report.rejected_rows += batch.rows_rejected
        for rejection in batch.rejections:
            if len(self.report.rejections) < MAX_REJECTIONS_KEPT:
                self.report.rejections.append(rejection)
            if self._on_rejected is not None:
                self._on_rejected(rejection)

    async def write(self, batch: RowBatch) -> None:
        self.report.add(await self._store.merge_encoded(self._campaign, self._upload_id, batch.rows))
