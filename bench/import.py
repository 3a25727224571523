"""Measure contact CSV import speed and peak memory into SQLite and MongoDB (FerretDB).

    python bench/import.py                        # 1,000,000 rows into SQLite, 100,000 into FerretDB
    python bench/import.py --rows 200000 --mongodb-rows 20000
    python bench/import.py --mongodb-url mongodb://127.0.0.1:27017/ --mongodb-rows 1000000

The generated CSV has 5% duplicate rows (an earlier phone number with a new
first name) and 1% bad rows (an invalid phone number or a non-numeric score).
Phone numbers come in the shapes real files mix: 70% E.164, 15% national
("07912 345678"), 10% with the "+" lost and 5% with the "00" prefix.

Each import runs in its own process, so its peak RSS is its own. The reader
worker process that a large import starts is reported apart, and the CPU
time adds up both processes. For MongoDB the script also bulk-inserts the documents the
import produced into a fresh collection with the same indexes, in batches of
the import's size, and prints the import's rate as a share of that plain
insert's rate. A calibration line before and after each import shows how
fast csv.DictReader reads the file at that moment and the load average, so
runs on a shared machine can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.contacts.importer import DEFAULT_BATCH_SIZE, import_csv  # noqa: E402
from runtime.store import open_store  # noqa: E402
from runtime.store.models import Campaign, CustomField  # noqa: E402

# UK mobile blocks in which every number is valid for phonenumbers 9.0; each
# gives a million distinct numbers.
_MOBILE_BLOCKS = ("7400", "7500", "7800", "7900", "7912", "7913", "7914", "7915", "7916", "7917", "7918", "7919")
_FIRST_NAMES = ("Ann", "Bruno", "Chloé", "Dara", "Emeka", "Fatima", "Göran", "Hiroshi", "Ines", "Jonas")
_LAST_NAMES = ("Lee", "Costa", "Martin", "O'Neill", "Okafor", "Haddad", "Lindqvist", "Sato", "García", "Weber")
_TIME_ZONES = ("Europe/London", "Europe/Dublin", "Europe/Paris")


def generate_csv(path: Path, rows: int, seed: int = 1) -> None:
    """Write ``rows`` contact rows: 5% duplicates, 1% bad rows, mixed phone shapes."""
    rng = random.Random(seed)
    unique = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "first_name", "last_name", "email", "language", "timezone", "score", "plan"])
        for _ in range(rows):
            draw = rng.random()
            if draw < 0.01:
                writer.writerow(_bad_row(rng, unique))
                continue
            if draw < 0.06 and unique > 0:
                index = rng.randrange(unique)
                first_name = rng.choice(_FIRST_NAMES) + "-2"
            else:
                index = unique
                unique += 1
                first_name = rng.choice(_FIRST_NAMES)
            writer.writerow([
                _phone(rng, index), first_name, rng.choice(_LAST_NAMES), f"user{index}@example.com", "en-GB",
                rng.choice(_TIME_ZONES), rng.randint(0, 100), rng.choice(("gold", "silver")),
            ])


def _phone(rng: random.Random, index: int) -> str:
    block, number = _MOBILE_BLOCKS[index // 1_000_000], index % 1_000_000
    shape = rng.random()
    if shape < 0.70:
        return f"+44{block}{number:06d}"
    if shape < 0.85:
        return f"0{block} {number:06d}"
    if shape < 0.95:
        return f"44{block}{number:06d}"
    return f"0044{block}{number:06d}"


def _bad_row(rng: random.Random, index: int) -> list[Any]:
    if rng.random() < 0.5:
        return ["12345", "Bad", "Phone", "", "", "", 1, "gold"]
    return [f"+447400{index % 1_000_000:06d}", "Bad", "Score", "", "", "", "lots", "gold"]


async def _import_child(store_url: str, csv_path: Path) -> dict[str, Any]:
    async with open_store(store_url) as store:
        await store.create_campaign(Campaign(name="bench", default_region="GB"))
        await store.add_custom_field("bench", CustomField("score", "number"))
        await store.add_custom_field("bench", CustomField("plan", "enum", ("gold", "silver")))
        report = await import_csv(store, "bench", csv_path)
        contacts = await store.count_contacts("bench")
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "rows_read": report.rows_read, "inserted": report.inserted, "merged": report.merged,
        "unchanged": report.unchanged, "rejected": report.rejected_rows, "contacts": contacts,
        "elapsed_s": report.elapsed_s, "rows_per_s": report.rows_per_s,
        # The reader worker is this process's only child. Its peak RSS is
        # reported apart because it runs beside this process.
        "peak_rss_mb": own.ru_maxrss / 1024, "worker_peak_rss_mb": children.ru_maxrss / 1024,
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
    }


async def _plain_insert_child(mongodb_url: str, source_database: str) -> dict[str, Any]:
    """Bulk-insert the imported contact documents into a fresh collection with the same indexes."""
    from pymongo import AsyncMongoClient, WriteConcern

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    source = client[source_database]["contacts"]
    target_database = client.get_database(source_database + "_plain", write_concern=WriteConcern(w="majority"))
    target = target_database["contacts"]
    async for index in await source.list_indexes():
        if index["name"] != "_id_":
            await target.create_index(list(index["key"].items()), name=index["name"], unique=index.get("unique", False))

    documents = [document async for document in source.find({})]
    started = time.perf_counter()
    for start in range(0, len(documents), DEFAULT_BATCH_SIZE):
        await target.insert_many(documents[start:start + DEFAULT_BATCH_SIZE], ordered=False)
    elapsed_s = time.perf_counter() - started
    await client.close()
    return {"documents": len(documents), "elapsed_s": elapsed_s, "documents_per_s": len(documents) / elapsed_s}


def _run_child(*argv: str) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"benchmark child {argv[0]} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _print_import(label: str, result: dict[str, Any]) -> None:
    print(f"{label}: {result['rows_read']:,} rows in {result['elapsed_s']:.1f} s = {result['rows_per_s']:,.0f} rows/s, "
          f"peak RSS {result['peak_rss_mb']:.0f} MB (reader worker {result['worker_peak_rss_mb']:.0f} MB), "
          f"CPU {result['cpu_s']:.1f} s "
          f"(inserted {result['inserted']:,}, merged {result['merged']:,}, unchanged {result['unchanged']:,}, "
          f"rejected {result['rejected']:,}, contacts {result['contacts']:,})")


def _print_machine_load(csv_path: Path) -> None:
    """Print how fast csv.DictReader reads the file now, and the load average.

    Other processes on a shared machine slow every figure down, and this
    line lets a reader compare runs and machines.
    """
    started = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    rate = rows / (time.perf_counter() - started)
    load_1m, load_5m, _ = os.getloadavg()
    print(f"calibration: csv.DictReader reads {rate:,.0f} rows/s; load average {load_1m:.1f} (1 min), {load_5m:.1f} (5 min)")


def _bench_mongodb(args: argparse.Namespace, workdir: Path) -> None:
    csv_path = workdir / f"contacts-{args.mongodb_rows}.csv"
    generate_csv(csv_path, args.mongodb_rows)

    server = None
    base_url = args.mongodb_url
    if base_url is None:
        from tests.support.ferretdb import FerretDBServer, find_ferretdb

        server = FerretDBServer(find_ferretdb())
        server.start()
        base_url = server.url
    try:
        database = f"outwire_bench_{os.getpid()}"
        _print_machine_load(csv_path)
        imported = _run_child("import", base_url.rstrip("/") + "/" + database, str(csv_path))
        _print_import("MongoDB import", imported)
        plain = _run_child("plain", base_url, database)
        import_docs_per_s = imported["contacts"] / imported["elapsed_s"]
        print(f"MongoDB plain bulk insert of the same {plain['documents']:,} documents: "
              f"{plain['elapsed_s']:.1f} s = {plain['documents_per_s']:,.0f} documents/s")
        print(f"MongoDB import rate as share of plain insert: {import_docs_per_s / plain['documents_per_s']:.0%} "
              f"(documents/s), {imported['rows_per_s'] / plain['documents_per_s']:.0%} (rows/s)")
        _print_machine_load(csv_path)
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark contact CSV import into SQLite and MongoDB.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the SQLite import (default 1,000,000)")
    parser.add_argument("--mongodb-rows", type=int, default=100_000,
                        help="rows for the MongoDB import (default 100,000; 0 skips MongoDB)")
    parser.add_argument("--mongodb-url", help="MongoDB server to use (default: start FerretDB on 127.0.0.1)")
    parser.add_argument("--workdir", type=Path, help="directory for the CSV files and the SQLite database")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "import":
            print(json.dumps(asyncio.run(_import_child(rest[0], Path(rest[1])))))
        else:
            print(json.dumps(asyncio.run(_plain_insert_child(rest[0], rest[1]))))
        return

    with tempfile.TemporaryDirectory(prefix="outwire-bench-", dir=args.workdir) as directory:
        workdir = Path(directory)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        if args.rows:
            csv_path = workdir / f"contacts-{args.rows}.csv"
            started = time.perf_counter()
            generate_csv(csv_path, args.rows)
            print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
                  f"in {time.perf_counter() - started:.1f} s")
            _print_machine_load(csv_path)
            _print_import("SQLite import", _run_child("import", f"sqlite:///{workdir / 'bench.db'}", str(csv_path)))
            _print_machine_load(csv_path)
        if args.mongodb_rows:
            _bench_mongodb(args, workdir)


if __name__ == "__main__":
    main()
