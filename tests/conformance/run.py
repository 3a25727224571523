"""Run Node-RED conformance cases through Outwire and compare with what Node-RED 4.1.8 did.

Usage::

    python tests/conformance/run.py PATH... [--dump DIR] [--filter TEXT] [-v]

PATH is a case file or a folder of them (searched recursively). Each case
runs in a fresh runtime: the case's flow is loaded, its inputs are handed
straight to the named nodes' inputs, every message reaching a ``capture``
node is snapshotted, and the result is judged by the corpus's own rules
(``tools/reference_compare.py`` beside the cases). Failing cases are printed
with their first difference; the last line is ``N passed, M failed``.

With ``--dump DIR``, what Outwire captured for each case is written to
``DIR/<category>/<name>.json`` in the corpus's ``actual`` shape.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from runtime.context import Scope  # noqa: E402
from runtime.encoding import decode, encode  # noqa: E402
from runtime.engine import Runtime  # noqa: E402
from runtime.flowfile import validate_flow_objects  # noqa: E402
from runtime.graph import build_flow_set  # noqa: E402
from runtime.message import Message  # noqa: E402
from runtime.node import Node  # noqa: E402
from runtime.registry import NodeRegistry, default_registry  # noqa: E402
from runtime.settings import Settings  # noqa: E402

# Levels the corpus records; debug and trace lines are not part of it.
RECORDED_LEVELS = frozenset({"error", "warn", "info"})


def corpus_dir() -> Path | None:
    """Return the conformance corpus: $OUTWIRE_CONFORMANCE_DIR, else ../shared/conformance beside the checkout."""
    configured = os.environ.get("OUTWIRE_CONFORMANCE_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT.parent / "shared" / "conformance")
    for candidate in candidates:
        if (candidate / "cases").is_dir():
            return candidate
    return None


def load_comparator(corpus: Path) -> ModuleType:
    """Import the corpus's own matching rules (``tools/reference_compare.py``)."""
    path = corpus / "tools" / "reference_compare.py"
    spec = importlib.util.spec_from_file_location("reference_compare", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"{path}: cannot import the corpus comparator")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class HelperNode(Node):
    """The corpus's test sink: one input, no outputs; it only marks each message done."""

    type_name = "helper"

    def on_input(self, msg: Message) -> None:
        return None


@dataclass
class Capture:
    """What one case run produced, in the corpus's ``actual`` shape."""

    messages: dict[str, list[Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    context: list[dict[str, Any]] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)

    def as_actual(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "order": self.order,
            "logs": self.logs,
            "context": self.context,
            "times": self.times,
        }


def _registry() -> NodeRegistry:
    registry = NodeRegistry({name: default_registry().get(name) for name in default_registry().types()})  # type: ignore[misc]
    registry.add(HelperNode)
    return registry


class _Environment:
    """Set the case's process environment (plus TZ=UTC) and restore it afterwards."""

    def __init__(self, extra: dict[str, str]) -> None:
        self.extra = {**extra, "TZ": "UTC"}
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.extra.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = str(value)
        time.tzset()

    def __exit__(self, *exc: Any) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        time.tzset()


async def run_case(case: dict[str, Any]) -> Capture:
    """Run one case in a fresh runtime and return what it captured."""
    capture = Capture(messages={c: [] for c in case.get("capture", [])})
    settings = Settings(
        data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "outwire-conformance",
        function_global_context=decode(case.get("global_context") or {}),
        context_flush_interval_s=0,
    )
    runtime = Runtime(settings, registry=_registry())

    def on_log(entry: dict[str, Any]) -> None:
        if entry["level"] not in RECORDED_LEVELS:
            return
        record = {k: v for k, v in entry.items() if k in ("level", "id", "type", "name", "alias", "phase")}
        record["msg"] = encode(entry["msg"])
        capture.logs.append(record)

    runtime.log_listeners.append(on_log)
    validate_flow_objects(case["flow"], source=case["name"])
    runtime.load(build_flow_set(case["flow"]))
    await runtime.start()
    t0 = time.monotonic()
    _attach_capture(runtime, case, capture, t0)

    for entry in case.get("inject", []):
        delay_ms = entry.get("delay_ms", 0) or 0
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        runtime.inject(entry["node"], decode(entry.get("msg") or {}))
    await asyncio.sleep(case.get("settle_ms", 150) / 1000)

    requested = case.get("capture_context") or []
    before = [c for c in requested if not c.get("after_stop")]
    capture.context.extend(_read_context(runtime, c) for c in before)
    await runtime.stop()
    results = {id(c): _read_context(runtime, c) for c in requested if c.get("after_stop")}
    # Keep the order of capture_context, whatever the phase.
    ordered = []
    before_iter = iter(capture.context)
    for c in requested:
        ordered.append(results[id(c)] if c.get("after_stop") else next(before_iter))
    capture.context = ordered
    return capture


def _attach_capture(runtime: Runtime, case: dict[str, Any], capture: Capture, t0: float) -> None:
    for capture_id in case.get("capture", []):
        node = runtime.get_node(capture_id)
        if node is None:
            continue
        original = node.receive

        def receive(msg: Message, _id: str = capture_id, _original: Any = original) -> None:
            if not runtime.stopping:
                capture.messages[_id].append(encode(msg))
                capture.order.append(_id)
                capture.times.setdefault(_id, []).append(round((time.monotonic() - t0) * 1000, 1))
            _original(msg)

        node.receive = receive  # type: ignore[method-assign]


def _read_context(runtime: Runtime, request: dict[str, Any]) -> dict[str, Any]:
    contexts = runtime.contexts
    scope_kind = request["scope"]
    if scope_kind == "global":
        scope: Scope = contexts.global_scope
    elif scope_kind == "flow":
        scope = contexts.flow_scope(request["flow"])
    else:
        # Read through the node's own context object while it runs, as
        # Node-RED's getNode(id).context() does; after stop, from the store.
        running = runtime.get_node(request["node"])
        scope = running.context() if running is not None else Scope(contexts, f"{request['node']}:{request['flow']}")
    return {**request, "value": encode(scope.get(request["key"]))}


def find_cases(paths: list[Path]) -> list[Path]:
    """Expand files and folders into a sorted list of case files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob("*.json")))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such case file or folder")
    return found


def judge(case: dict[str, Any], capture: Capture, comparator: ModuleType) -> list[str]:
    """Return the differences between the recording and Outwire's run ([] means pass)."""
    errors: list[str] = comparator.compare_case(case, capture.as_actual())
    return errors


def run_file(path: Path, comparator: ModuleType) -> tuple[dict[str, Any], Capture | None, list[str]]:
    """Run one case file; a crash of the runner counts as a failure with its reason."""
    case = json.loads(path.read_text(encoding="utf-8"))
    try:
        with _Environment(case.get("env") or {}):
            capture = asyncio.run(run_case(case))
    except Exception as exc:  # noqa: BLE001 - reported as the case's failure
        return case, None, [f"runner error: {type(exc).__name__}: {exc}"]
    return case, capture, judge(case, capture, comparator)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Node-RED conformance cases through Outwire.")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="case files or folders")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write each case's captured output to DIR/<category>/<name>.json")
    parser.add_argument("--filter", metavar="TEXT", help="run only cases whose name contains TEXT")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every difference, not only the first")
    args = parser.parse_args(argv)

    corpus = corpus_dir()
    comparator_root = corpus
    if comparator_root is None:
        # The paths themselves may sit inside a corpus copy.
        for path in args.paths:
            for parent in [path.resolve(), *path.resolve().parents]:
                if (parent / "tools" / "reference_compare.py").is_file():
                    comparator_root = parent
                    break
    if comparator_root is None:
        print("conformance comparator not found: set OUTWIRE_CONFORMANCE_DIR to the corpus folder", file=sys.stderr)
        return 2
    comparator = load_comparator(comparator_root)

    passed = failed = 0
    for path in find_cases(args.paths):
        if args.filter and args.filter not in str(path):
            continue
        case, capture, errors = run_file(path, comparator)
        if args.dump and capture is not None:
            target = args.dump / case.get("category", "misc") / f"{Path(case['name']).name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(capture.as_actual(), indent=1), encoding="utf-8")
        if errors:
            failed += 1
            shown = errors if args.verbose else errors[:1]
            print(f"FAIL {case.get('name', path)}: " + "\n    ".join(shown))
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
