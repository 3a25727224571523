"""Measure the csv node parsing a 10 MB payload beside Python's csv module on the same data.

Usage::

    python3 bench/csv_node.py [--mb 10] [--repeat 3]

The data is generated with a fixed seed: an id, text, a city, a decimal, a
boolean word and a note that is quoted (with a comma or doubled quotes) in
about a third of the rows. The node is driven through its input handler with
one message (header row, numbers parsed, one message holding an array); the
csv module baseline is ``csv.DictReader`` over the same text, which names the
columns but converts nothing. The best of ``--repeat`` runs is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.engine import Runtime  # noqa: E402
from runtime.graph import build_flow_set  # noqa: E402
from runtime.settings import Settings  # noqa: E402

CITIES = ["Paris", "Rome", "Berlin", "Madrid", "Lisbon", "Oslo"]


def make_csv(size_bytes: int, seed: int = 1) -> tuple[str, int]:
    """Return CSV text of about ``size_bytes`` and its number of data rows."""
    generator = random.Random(seed)
    lines = ["id,name,city,score,active,note"]
    size = len(lines[0]) + 1
    row = 0
    while size < size_bytes:
        row += 1
        if row % 5 == 0:
            note = '"hello, world"'
        elif row % 7 == 0:
            note = '"say ""hi"""'
        else:
            note = "plain note"
        line = f"{row},user{row},{generator.choice(CITIES)},{generator.random() * 100:.3f},{'true' if row % 2 else 'false'},{note}"
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n", row


async def build_node(data_dir: Path) -> Any:
    flow: list[dict[str, Any]] = [
        {"id": "t1", "type": "tab", "label": "bench"},
        {"id": "csv1", "type": "csv", "z": "t1", "spec": "rfc", "sep": ",", "hdrin": True, "hdrout": "none",
         "multi": "mult", "ret": "\\n", "temp": "", "skip": "0", "strings": True,
         "include_empty_strings": "", "include_null_values": "", "wires": []},
    ]
    runtime = Runtime(Settings(data_dir=data_dir))
    runtime.load(build_flow_set(flow))
    await runtime.start()
    return runtime, runtime.get_node("csv1")


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = run()
        best = min(best, time.perf_counter() - started)
    return best, rows


async def main_async(size_mb: float, repeat: int) -> None:
    text, data_rows = make_csv(int(size_mb * 1024 * 1024))
    megabytes = len(text.encode("utf-8")) / (1024 * 1024)

    with tempfile.TemporaryDirectory() as data_dir:
        runtime, node = await build_node(Path(data_dir))

        def run_node() -> int:
            # The node sends msg itself (it has no wires here) with the rows in msg.payload.
            msg = {"_msgid": "bench", "payload": text}
            node.on_input(msg)
            return len(msg["payload"])

        node_s, node_rows = best_of(repeat, run_node)
        await runtime.stop()

    def run_csv_module() -> int:
        return sum(1 for _ in csv.DictReader(io.StringIO(text, newline="")))

    module_s, module_rows = best_of(repeat, run_csv_module)
    assert node_rows == module_rows == data_rows, (node_rows, module_rows, data_rows)

    print(f"data: {megabytes:.1f} MB, {data_rows} rows, 6 columns")
    print(f"{'parser':<34} {'MB/s':>8} {'rows/s':>12}")
    for label, seconds in (("csv node (RFC mode, one message)", node_s), ("Python csv.DictReader", module_s)):
        print(f"{label:<34} {megabytes / seconds:>8.1f} {data_rows / seconds:>12,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0, help="size of the generated CSV in MB (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per parser; the best is printed (default 3)")
    args = parser.parse_args()
    asyncio.run(main_async(args.mb, args.repeat))


if __name__ == "__main__":
    main()
