"""The ``outwire contacts`` commands: import, list, uploads, delete-upload, add-field, create-campaign.

Every command takes ``--store URL`` (default ``$OUTWIRE_STORE_URL``, else a
SQLite file in the data directory). Bad input prints one ``outwire:`` line
that names the value and what to do, and exits with status 2 before anything
is written. A store that fails mid-way exits with status 1, and SIGINT
(Ctrl-C) with status 130.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from pymongo.errors import PyMongoError

from runtime.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, add_settings_arguments, settings_from_args
from runtime.contacts.csvfile import CsvFormatError
from runtime.contacts.importer import ImportReport, Rejection, import_csv
from runtime.log import configure_logging
from runtime.store import (
    CampaignExistsError,
    CampaignNotFoundError,
    ContactStore,
    StoreError,
    StoreURLError,
    UploadNotFoundError,
    open_store,
    redact_url,
)
from runtime.store.models import CUSTOM_FIELD_TYPES, IDENTIFIER_FIELDS, Campaign, CustomField, StoreValueError

_DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
# Seconds between progress updates on a terminal, and in a log or pipe.
_PROGRESS_INTERVAL_TTY_S = 0.2
_PROGRESS_INTERVAL_PIPE_S = 10.0
# Rejections printed when no --rejects file is given.
_REJECTIONS_PRINTED = 100

StoreCommand = Callable[[ContactStore, argparse.Namespace], Awaitable[int]]


def add_parser(subparsers: Any) -> None:
    """Add ``outwire contacts`` and its subcommands."""
    contacts = subparsers.add_parser(
        "contacts", help="import and manage campaign contacts",
        description="Import contact CSV files into campaigns and manage the uploads.",
    )
    commands = contacts.add_subparsers(dest="contacts_command", metavar="COMMAND")
    commands.required = True

    command = _add_command(commands, "import", "import a contact CSV file into a campaign", _import)
    command.add_argument("csv_file", metavar="FILE.csv", help="CSV file with a header row")
    command.add_argument("--create-campaign", action="store_true", help="create the campaign if it does not exist")
    command.add_argument(
        "--identifier", choices=IDENTIFIER_FIELDS, default="phone",
        help="with --create-campaign: the field contacts are keyed on (default: phone)",
    )
    command.add_argument(
        "--region", metavar="CC",
        help="with --create-campaign: ISO 3166 region for phone numbers without a country code, e.g. GB",
    )
    command.add_argument("--encoding", help="text encoding, e.g. utf-8 or cp1252 (default: detected)")
    command.add_argument(
        "--delimiter", help="comma, semicolon, tab, pipe or one character (default: detected)",
    )
    command.add_argument("--rejects", metavar="FILE", help="write every rejected row to this CSV file")
    command.add_argument("--json", action="store_true", help="print the report as JSON")

    command = _add_command(commands, "list", "list a campaign's contacts in upload order", _list)
    command.add_argument("--json", action="store_true", help="print a JSON array of contacts with all their fields")

    _add_command(commands, "uploads", "list a campaign's uploads", _uploads)

    command = _add_command(
        commands, "delete-upload", "delete the contacts that came only from one upload and have not started",
        _delete_upload,
    )
    command.add_argument("upload_id", metavar="UPLOAD_ID", help="upload id, as shown by outwire contacts uploads")

    command = _add_command(commands, "add-field", "define a custom contact field for a campaign", _add_field)
    command.add_argument("field_name", metavar="FIELD", help="field name: letters, digits and underscores")
    command.add_argument("field_type", metavar="TYPE", choices=CUSTOM_FIELD_TYPES, help=", ".join(CUSTOM_FIELD_TYPES))
    command.add_argument("--values", help="enum fields: the allowed values, comma-separated")

    command = _add_command(commands, "create-campaign", "create an empty campaign", _create_campaign)
    command.add_argument("--identifier", choices=IDENTIFIER_FIELDS, default="phone",
                         help="the field contacts are keyed on (default: phone)")
    command.add_argument("--region", metavar="CC", help="ISO 3166 region for phone numbers without a country code")


def _add_command(commands: Any, name: str, help_text: str, run: StoreCommand) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text + ".")
    command.add_argument("--campaign", required=True, metavar="NAME", help="campaign name")
    command.add_argument(
        "--store", metavar="URL",
        help="mongodb://HOST/DATABASE or sqlite:///PATH (default: $OUTWIRE_STORE_URL, else DATA_DIR/outwire.db)",
    )
    add_settings_arguments(command)
    command.set_defaults(handler=lambda args: _run_store_command(args, run))
    return command


def _run_store_command(args: argparse.Namespace, run: StoreCommand) -> int:
    settings = settings_from_args(args, store_url=args.store)
    configure_logging(settings.log_level if args.log_level else "WARNING")
    url = settings.resolved_store_url()
    try:
        store = open_store(url)
        return asyncio.run(_with_store(store, args, run))
    except (StoreURLError, CsvFormatError, StoreValueError, CampaignNotFoundError,
            CampaignExistsError, UploadNotFoundError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except (StoreError, PyMongoError, sqlite3.Error, OSError) as exc:
        return _fail(f"store {redact_url(url)} failed: {exc}", EXIT_FAILED)
    except KeyboardInterrupt:
        if args.contacts_command == "import":
            # import_csv marks the upload failed; every batch written before stays whole.
            return _fail(
                "import interrupted; the contacts written so far stay and the upload is marked failed. "
                "Run the same import again to finish it: rows already imported count as unchanged",
                EXIT_INTERRUPTED,
            )
        return _fail("interrupted", EXIT_INTERRUPTED)


async def _with_store(store: ContactStore, args: argparse.Namespace, run: StoreCommand) -> int:
    async with store:
        return await run(store, args)


def _fail(message: str, status: int) -> int:
    print(f"outwire: {message}", file=sys.stderr)
    return status


async def _import(store: ContactStore, args: argparse.Namespace) -> int:
    path = Path(args.csv_file)
    if not path.is_file():
        return _fail(f"{path}: file not found; check the path", EXIT_USAGE)
    if args.create_campaign:
        await _ensure_campaign(store, args)

    delimiter = _DELIMITER_NAMES.get(args.delimiter, args.delimiter) if args.delimiter else None
    progress = _Progress(sys.stderr)
    rejects = _RejectsFile(Path(args.rejects)) if args.rejects else None
    try:
        report = await import_csv(
            store, args.campaign, path, encoding=args.encoding, delimiter=delimiter,
            on_progress=progress.update, on_rejected=rejects.write if rejects else None,
        )
    finally:
        progress.finish()
        if rejects is not None:
            rejects.close()

    if args.json:
        print(json.dumps(_report_json(report), indent=2))
    else:
        _print_report(report, rejects_path=args.rejects)
    return EXIT_OK


async def _ensure_campaign(store: ContactStore, args: argparse.Namespace) -> None:
    try:
        await store.create_campaign(
            Campaign(name=args.campaign, identifier_field=args.identifier, default_region=args.region)
        )
    except CampaignExistsError:
        return
    print(f"created campaign {args.campaign!r} keyed on {args.identifier}", file=sys.stderr)


def _print_report(report: ImportReport, *, rejects_path: str | None) -> None:
    print(f"upload {report.upload_id}: {report.source} into campaign {report.campaign!r} "
          f"({report.file_format.describe()})")
    print(f"  rows read   {report.rows_read:>10,}")
    print(f"  inserted    {report.inserted:>10,}")
    print(f"  merged      {report.merged:>10,}")
    print(f"  unchanged   {report.unchanged:>10,}")
    print(f"  rejected    {report.rejected_rows:>10,}")
    print(f"  time        {report.elapsed_s:>10.1f} s ({report.rows_per_s:,.0f} rows/s)")
    if report.ignored_columns:
        print(f"ignored columns: {', '.join(report.ignored_columns)}")
    if not report.rejections:
        return
    print("rejected rows:")
    for rejection in report.rejections[:_REJECTIONS_PRINTED]:
        column = f" {rejection.column}:" if rejection.column else ""
        print(f"  line {rejection.line}:{column} {rejection.reason}")
    if rejects_path is not None:
        print(f"every rejected row is in {rejects_path}")
    elif len(report.rejections) > _REJECTIONS_PRINTED or report.rejected_rows > len(report.rejections):
        print(f"  ... more rejections not shown; rerun with --rejects FILE to write all of them")


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "upload_id": report.upload_id, "campaign": report.campaign, "source": report.source,
        "encoding": report.file_format.encoding, "delimiter": report.file_format.delimiter,
        "rows_read": report.rows_read, "inserted": report.inserted, "merged": report.merged,
        "unchanged": report.unchanged, "rejected": report.rejected_rows,
        "rejections": [
            {"line": item.line, "column": item.column, "reason": item.reason} for item in report.rejections
        ],
        "ignored_columns": report.ignored_columns, "elapsed_s": round(report.elapsed_s, 3),
    }


async def _list(store: ContactStore, args: argparse.Namespace) -> int:
    contacts = store.iter_contacts(args.campaign)
    if not args.json:
        async for contact in contacts:
            name = " ".join(str(contact.fields.get(key, "")) for key in ("first_name", "last_name")).strip()
            print(f"{contact.upload_seq:>8}  {contact.identifier:<24} {contact.state:<12} {name}")
        return EXIT_OK

    # Streamed element by element so a large campaign is never held in memory.
    out = sys.stdout
    out.write("[")
    first = True
    async for contact in contacts:
        out.write("\n  " if first else ",\n  ")
        out.write(json.dumps(contact.to_json(), ensure_ascii=False))
        first = False
    out.write("\n]\n" if not first else "]\n")
    return EXIT_OK


async def _uploads(store: ContactStore, args: argparse.Namespace) -> int:
    uploads = await store.list_uploads(args.campaign)
    if not uploads:
        print(f"campaign {args.campaign!r} has no uploads")
        return EXIT_OK
    print(f"{'UPLOAD_ID':<14}{'STARTED (UTC)':<21}{'STATUS':<10}{'READ':>9}{'INSERTED':>10}"
          f"{'MERGED':>9}{'REJECTED':>10}  SOURCE")
    for upload in uploads:
        started = upload.started_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{upload.upload_id:<14}{started:<21}{upload.status:<10}{upload.rows_read:>9}{upload.inserted:>10}"
              f"{upload.merged:>9}{upload.rejected:>10}  {upload.source}")
    return EXIT_OK


async def _delete_upload(store: ContactStore, args: argparse.Namespace) -> int:
    deletion = await store.delete_upload(args.campaign, args.upload_id)
    print(f"upload {deletion.upload_id}: removed {len(deletion.removed)} contacts, kept {len(deletion.kept)}")
    for identifier, reason in sorted(deletion.kept.items()):
        print(f"  kept {identifier}: {reason}")
    return EXIT_OK


async def _add_field(store: ContactStore, args: argparse.Namespace) -> int:
    values = tuple(value.strip() for value in args.values.split(",") if value.strip()) if args.values else ()
    campaign = await store.add_custom_field(args.campaign, CustomField(args.field_name, args.field_type, values))
    print(f"campaign {campaign.name!r} custom fields: "
          + ", ".join(f"{custom.name} ({custom.type})" for custom in campaign.custom_fields))
    return EXIT_OK


async def _create_campaign(store: ContactStore, args: argparse.Namespace) -> int:
    await store.create_campaign(Campaign(name=args.campaign, identifier_field=args.identifier,
                                         default_region=args.region))
    print(f"created campaign {args.campaign!r} keyed on {args.identifier}")
    return EXIT_OK


class _Progress:
    """Print import progress to a terminal in place, or as occasional lines to a pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._interval_s = _PROGRESS_INTERVAL_TTY_S if self._tty else _PROGRESS_INTERVAL_PIPE_S
        self._last_s = time.monotonic()
        self._shown = False

    def update(self, bytes_read: int, size_bytes: int, rows_read: int) -> None:
        now = time.monotonic()
        if now - self._last_s < self._interval_s:
            return
        self._last_s = now
        percent = 100.0 * bytes_read / size_bytes if size_bytes else 100.0
        text = f"importing: {min(percent, 100.0):5.1f}%  {rows_read:,} rows"
        if self._tty:
            self._stream.write("\r" + text)
            self._shown = True
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


class _RejectsFile:
    """A CSV file with one line per rejected cell: line, column, reason."""

    def __init__(self, path: Path) -> None:
        import csv

        self._handle = open(path, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["line", "column", "reason"])

    def write(self, rejection: Rejection) -> None:
        self._writer.writerow([rejection.line, rejection.column, rejection.reason])

    def close(self) -> None:
        self._handle.close()
