"""Run a benchmark flow in Outwire and, side by side in the same run, in Node-RED.

Usage::

    python bench/run.py FLOW --n N [--node-red DIR] [--repeat K]

FLOW is a name from ../shared/bench/flows (chain, fanout, gen-count,
delay-rate) or a path to a flow file. The flows read the message count from
``BENCH_N`` and write one JSON line with ``generated``, ``delivered``,
``elapsed_ms``, ``t0_ms`` and ``t_end_ms`` to the file named by ``BENCH_OUT``
when the last message arrives.

For each runtime one JSON line is printed::

    {"runtime": "outwire", "flow": "chain", "n": 50000, "seconds": ..., "msgs_per_s": ...,
     "msgs_per_cpu_s": ..., "max_rss_kb": ..., ...}

``seconds`` is the in-flow time (generator start to last delivery),
``msgs_per_cpu_s`` divides the delivered messages by the CPU time the process
used in that window (sampled from /proc every 50 ms), which stays steady when
other work shares the machine. ``max_rss_kb`` is the whole process's peak.
Node-RED is measured with the harness that recorded its baseline
(``../shared/bench/bench.sh``), so both sides are measured the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = REPO_ROOT.parent / "shared" / "bench"

# /proc sampling period; the same 50 ms the Node-RED harness uses.
SAMPLE_PERIOD_S = 0.05
DEFAULT_TIMEOUT_S = 900


def resolve_flow(flow: str) -> Path:
    """Return the flow file for a benchmark name or path."""
    path = Path(flow)
    if path.is_file():
        return path
    named = SHARED_BENCH / "flows" / f"{flow}.json"
    if named.is_file():
        return named
    raise SystemExit(f"bench: no flow named {flow!r}; give a path or one of "
                     f"{', '.join(p.stem for p in sorted((SHARED_BENCH / 'flows').glob('*.json')))}")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime and stime


def _cpu_at(samples: list[tuple[int, float]], at_ms: float) -> float | None:
    if not samples:
        return None
    previous = samples[0]
    for sample in samples:
        if sample[0] >= at_ms:
            if sample[0] == previous[0]:
                return sample[1]
            share = (at_ms - previous[0]) / (sample[0] - previous[0])
            return previous[1] + (sample[1] - previous[1]) * share
        previous = sample
    return samples[-1][1]


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        line = path.read_text().splitlines()[0]
        result = json.loads(line)
    except (OSError, IndexError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def run_outwire(flow: Path, n: int, timeout_s: float) -> dict[str, Any]:
    """Run the flow with ``outwire run`` and measure it like the Node-RED harness does."""
    with tempfile.TemporaryDirectory(prefix="outwire-bench-") as work:
        out = Path(work) / "result.json"
        time_file = Path(work) / "time.txt"
        env = {**os.environ, "BENCH_N": str(n), "BENCH_OUT": str(out), "OUTWIRE_LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "runtime.cli", "run", str(flow), "--data-dir", work]
        timer = Path("/usr/bin/time").exists()
        if timer:
            command = ["/usr/bin/time", "-v", "-o", str(time_file), *command]
        load_start = os.getloadavg()[0]
        process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pid = _child_pid(process.pid) if timer else process.pid

        samples: list[tuple[int, float]] = []
        deadline = time.monotonic() + timeout_s
        result = None
        while result is None:
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                samples.append((int(time.time() * 1000), cpu))
            result = _read_result(out)
            if result is not None:
                break
            if process.poll() is not None:
                raise RuntimeError("outwire exited early: " + process.stderr.read().decode(errors="replace")[-2000:])
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"outwire did not finish {flow.name} with n={n} within {timeout_s:.0f} s")
            time.sleep(SAMPLE_PERIOD_S)

        # Stop outwire itself; /usr/bin/time then exits and writes its report.
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        process.wait(timeout=60)
        max_rss_kb = _max_rss_kb(time_file)
    return _summarise("outwire", flow, n, result, samples, max_rss_kb, load_start)


def _child_pid(parent: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{parent}/task/{parent}/children")
        try:
            text = children.read_text().split()
        except OSError:
            text = []
        if text:
            return int(text[0])
        time.sleep(0.02)
    return parent


def _max_rss_kb(time_file: Path) -> int | None:
    try:
        match = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", time_file.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _summarise(runtime: str, flow: Path, n: int, result: dict[str, Any], samples: list[tuple[int, float]],
               max_rss_kb: int | None, load_start: float) -> dict[str, Any]:
    seconds = result["elapsed_ms"] / 1000.0
    delivered = result.get("delivered", n)
    rate = result.get("achieved_rate_per_s", delivered / seconds if seconds > 0 else None)
    cpu_window = None
    if "t0_ms" in result and samples:
        start, end = _cpu_at(samples, result["t0_ms"]), _cpu_at(samples, result["t_end_ms"])
        if start is not None and end is not None:
            cpu_window = round(end - start, 2)
    return {
        "runtime": runtime,
        "flow": flow.stem,
        "n": n,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(rate, 1) if rate is not None else None,
        "msgs_per_cpu_s": round(delivered / cpu_window, 1) if cpu_window else None,
        "max_rss_kb": max_rss_kb,
        "delivered": delivered,
        "cpu_window_s": cpu_window,
        "loadavg_start": load_start,
        "result": result,
    }


def run_node_red(flow: Path, n: int, node_red_dir: Path, timeout_s: float) -> dict[str, Any]:
    """Run the flow in Node-RED with the harness that recorded the baseline."""
    env = {**os.environ, "NODE_RED_DIR": str(node_red_dir), "BENCH_TIMEOUT_S": str(int(timeout_s))}
    completed = subprocess.run(["bash", str(SHARED_BENCH / "bench.sh"), str(flow), str(n)],
                               env=env, capture_output=True, text=True, timeout=timeout_s + 60)
    if completed.returncode != 0:
        raise RuntimeError("Node-RED run failed: " + completed.stderr[-2000:])
    line = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"runtime": "node-red", **{k: line.get(k) for k in (
        "flow", "n", "seconds", "msgs_per_s", "msgs_per_cpu_s", "max_rss_kb", "delivered", "cpu_window_s",
        "loadavg_start", "result")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark a flow in Outwire and, optionally, in Node-RED.")
    parser.add_argument("flow", help="chain, fanout, gen-count, delay-rate, or a flow file path")
    parser.add_argument("--n", type=int, required=True, help="number of messages the generator sends (BENCH_N)")
    parser.add_argument("--node-red", type=Path, metavar="DIR",
                        help="an installed node-red 4.1.8 package (the folder with red.js) to run side by side")
    parser.add_argument("--repeat", type=int, default=1, help="runs per runtime, alternating (default: 1)")
    parser.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S, help="limit per run, in seconds")
    args = parser.parse_args(argv)

    flow = resolve_flow(args.flow)
    for attempt in range(args.repeat):
        print(f"bench: {flow.stem} n={args.n} run {attempt + 1}/{args.repeat}: outwire", file=sys.stderr)
        print(json.dumps(run_outwire(flow, args.n, args.timeout_s)), flush=True)
        if args.node_red:
            print(f"bench: {flow.stem} n={args.n} run {attempt + 1}/{args.repeat}: node-red", file=sys.stderr)
            print(json.dumps(run_node_red(flow, args.n, args.node_red, args.timeout_s)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
