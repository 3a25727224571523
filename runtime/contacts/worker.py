"""Read and normalise a contact CSV file in a worker process, so an import uses two cores.

Normalising a row (phone number, email, custom fields) costs about as much
CPU as writing it, and both hold the GIL in one process. :class:`BatchWorker`
runs :func:`runtime.contacts.batches.read_batches` in a child process and
passes each batch back over a pipe, while the importing process writes the
previous one. The pipe's buffer is small and the child blocks on a full pipe,
so at most about one batch waits in transit and memory stays constant.

The child is ``python -m runtime.contacts.worker`` started with subprocess,
not a multiprocessing process. Multiprocessing's ``spawn`` runs the caller's
main script again in the child, which repeats the work of a script without a
``__main__`` guard. ``fork`` can copy a lock that the event loop's or the
store's threads hold.

Protocol: the parent writes one pickled job to the child's stdin. The child
writes frames to its stdout, each an 8-byte big-endian length and a pickled
tuple: ``("batch", identifiers, fields_json, lines, repeated, rejections,
rows_read, rows_rejected, bytes_read)``, then ``("end",)``, or ``("error",
exception)``. The rows travel as the columns of EncodedRows, lists of
strings and ints, which unpickle faster than a dict per row. Both ends are
this package's code, so unpickling their frames trusts nothing from outside.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from runtime.contacts.batches import Rejection, RowBatch, read_batches
from runtime.contacts.csvfile import CsvFormat
from runtime.store.models import Campaign, EncodedRows

_FRAME_HEADER = struct.Struct(">Q")
# Seconds to wait for the child to exit after its stdout closes, before it is
# killed. It exits at its next write, which comes within one batch.
_STOP_TIMEOUT_S = 10.0
# The directory that contains the runtime package, so the child imports the
# same code as the parent wherever the parent was started from.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class WorkerJob:
    """The child's instructions: the file, its format, and the campaign to normalise rows for."""

    path: Path
    file_format: CsvFormat
    campaign: Campaign
    batch_size: int
    group_by_identifier: bool


class WorkerError(RuntimeError):
    """The worker process failed with an error that could not be passed back as it was."""


class BatchWorker:
    """A child process that yields the RowBatches of one file, in order.

    Call :meth:`next_batch` (blocking) until it returns None, then
    :meth:`close`. ``close`` also stops a child whose batches were not all read.
    """

    def __init__(self, job: WorkerJob) -> None:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            item for item in (str(_PACKAGE_ROOT), environment.get("PYTHONPATH")) if item
        )
        self._process = subprocess.Popen(
            [sys.executable, "-m", "runtime.contacts.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment,
        )
        assert self._process.stdin is not None and self._process.stdout is not None  # both are PIPE above
        self._output: IO[bytes] = self._process.stdout
        try:
            self._process.stdin.write(pickle.dumps(job))
            self._process.stdin.close()
        except BrokenPipeError:
            # The child died at start; next_batch reports its exit code.
            pass

    def next_batch(self) -> RowBatch | None:
        """Return the next batch, or None after the last one. Re-raises the child's error."""
        message = _read_frame(self._output)
        if message is None:
            raise WorkerError(
                f"import worker process {self._process.pid} exited with code {self._process.wait()} "
                "before the end of the file; its error is on standard error"
            )
        kind = message[0]
        if kind == "end":
            return None
        if kind == "error":
            raise message[1]
        _, identifiers, fields_json, lines, repeated, rejections, rows_read, rows_rejected, bytes_read = message
        return RowBatch(
            rows=EncodedRows(identifiers, fields_json, lines, repeated),
            rejections=[Rejection(line, column, reason) for line, column, reason in rejections],
            rows_read=rows_read,
            rows_rejected=rows_rejected,
            bytes_read=bytes_read,
        )

    def close(self) -> None:
        """Close the pipe and wait for the child, killing it if it does not exit."""
        self._output.close()
        try:
            self._process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _read_frame(stream: IO[bytes]) -> Any:
    header = stream.read(_FRAME_HEADER.size)
    if len(header) < _FRAME_HEADER.size:
        return None
    (length,) = _FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return pickle.loads(payload)


def _write_frame(stream: IO[bytes], message: tuple[Any, ...]) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _run(job: WorkerJob, output: IO[bytes]) -> None:
    try:
        for batch in read_batches(
            job.path, job.file_format, job.campaign,
            batch_size=job.batch_size, group_by_identifier=job.group_by_identifier,
        ):
            rows = batch.rows
            _write_frame(output, (
                "batch", rows.identifiers, rows.fields_json, rows.lines, rows.repeated,
                [(item.line, item.column, item.reason) for item in batch.rejections],
                batch.rows_read, batch.rows_rejected, batch.bytes_read,
            ))
        _write_frame(output, ("end",))
    except BrokenPipeError:
        # The importing process stopped reading (it failed or was cancelled).
        return
    except Exception as exc:  # noqa: BLE001  # every error goes back to the importer, which re-raises it
        try:
            _write_frame(output, ("error", _picklable(exc)))
        except BrokenPipeError:
            return


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001  # any failure to round-trip means "send a summary instead"
        return WorkerError(f"import worker failed: {type(exc).__name__}: {exc}")
    return exc


def main() -> None:
    """Run one job from stdin, writing frames to stdout (see the module docstring)."""
    job = pickle.load(sys.stdin.buffer)
    # Everything imported so far lives as long as the process, so the
    # collector need not scan it again on every pass.
    gc.freeze()
    output = sys.stdout.buffer
    # Nothing else may write frames' bytes: route stray prints to stderr.
    sys.stdout = sys.stderr
    try:
        _run(job, output)
    except KeyboardInterrupt:
        # Ctrl-C on a terminal reaches the whole process group, and the
        # importing process reports it, so the child exits without a traceback.
        return


if __name__ == "__main__":
    main()
