"""The ``outwire`` command.

``outwire run FLOWS.json`` runs a flow file until SIGINT or SIGTERM (or, with
``--exit-when-idle``, until no message is in flight and no timer is
pending). Other command groups (``contacts``, ...) register themselves in
:data:`COMMAND_MODULES`; each module provides ``add_parser(subparsers)``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from runtime import __version__
from runtime.engine import MissingTypesError, Runtime
from runtime.flowfile import FlowFileError, load_flow_file
from runtime.httpserver import http_server
from runtime.log import configure_logging, runtime_log
from runtime.settings import Settings, SettingsError, load_settings

# Modules that add a command group; each has add_parser(subparsers).
COMMAND_MODULES: list[str] = ["runtime.contacts.cli"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# Exit status a shell reports for a command stopped by SIGINT (128 + signal 2).
EXIT_INTERRUPTED = 130


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags every command that reads settings accepts."""
    parser.add_argument(
        "--settings", metavar="FILE",
        help="TOML settings file (default: $OUTWIRE_SETTINGS); flags and OUTWIRE_* variables override it",
    )
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="directory for the embedded store and context files (default: ./.outwire; $OUTWIRE_DATA_DIR)",
    )
    parser.add_argument(
        "--log-level", metavar="LEVEL", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level: DEBUG, INFO, WARNING or ERROR (default: INFO; $OUTWIRE_LOG_LEVEL)",
    )


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    """Load settings from the file, environment and the parsed flags."""
    overrides = {"data_dir": args.data_dir, "log_level": args.log_level, **extra}
    return load_settings(args.settings, overrides=overrides)


def _add_run_parser(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="run a Node-RED flow file",
        description="Run a Node-RED flow export until SIGINT or SIGTERM, then stop the flows gracefully.",
        epilog=(
            "Environment variables: OUTWIRE_DATA_DIR, OUTWIRE_LOG_LEVEL, OUTWIRE_SETTINGS, "
            "OUTWIRE_CONTEXT_DEFAULT_STORE, OUTWIRE_FUNCTION_TIMEOUT_S, OUTWIRE_FUNCTION_MEMORY_LIMIT_MB, "
            "OUTWIRE_NODE_CLOSE_TIMEOUT_S, OUTWIRE_HTTP_PORT, OUTWIRE_STORE_URL."
        ),
    )
    run.add_argument("flow_file", metavar="FLOWS.json", help="flow file exported from the Node-RED editor")
    add_settings_arguments(run)
    run.add_argument(
        "--exit-when-idle", action="store_true",
        help="exit once no message is in flight and no timer is pending (batch runs and tests)",
    )
    run.add_argument(
        "--idle-settle-s", type=float, default=0.2, metavar="SECONDS",
        help="with --exit-when-idle, how long the flows must stay idle before exiting (default: 0.2 s)",
    )
    run.add_argument(
        "--context-store", metavar="NAME", choices=["memory", "file"],
        help="default context store: memory, or file (persisted under DATA_DIR/context) (default: memory)",
    )
    run.add_argument(
        "--function-timeout-s", type=float, metavar="SECONDS",
        help="maximum time a function node may run for one message before it fails; 0 means no limit (default: 30 s)",
    )
    run.add_argument(
        "--function-memory-limit-mb", type=int, metavar="MB",
        help="JavaScript heap limit per function node, in MiB (default: 256)",
    )
    run.add_argument(
        "--http-port", type=int, metavar="PORT",
        help="port for http-in nodes and the /health and /metrics endpoints on 127.0.0.1; 0 turns it off (default: 0)",
    )
    run.set_defaults(handler=_run_command)


def _run_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(
        args,
        context_default_store=args.context_store,
        function_timeout_s=args.function_timeout_s,
        function_memory_limit_mb=args.function_memory_limit_mb,
        http_port=args.http_port,
    )
    configure_logging(settings.log_level)
    flow_set = load_flow_file(args.flow_file)
    _prepare_data_dir(settings.data_dir)
    runtime = Runtime(settings)
    runtime.load(flow_set)
    if settings.http_port:
        # http-in nodes register the server themselves; a set port starts it without them too.
        http_server(runtime)
    return asyncio.run(_serve(runtime, args))


def _prepare_data_dir(path: Path) -> None:
    """Create the data directory and check that a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise SettingsError(
            f"data directory {path} is not usable ({exc.strerror}); "
            "choose a writable directory with --data-dir or OUTWIRE_DATA_DIR"
        ) from exc


async def _serve(runtime: Runtime, args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)

    runtime_log.info("loading %s", Path(args.flow_file).resolve())
    await runtime.start()
    _tune_garbage_collector()

    waiters = [asyncio.ensure_future(stop_requested.wait())]
    if args.exit_when_idle:
        waiters.append(asyncio.ensure_future(runtime.wait_idle(settle_s=args.idle_settle_s)))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()

    reason = "signal" if stop_requested.is_set() else "flows idle"
    runtime_log.info("stopping (%s)", reason)
    try:
        await runtime.stop()
    except OSError as exc:
        runtime_log.error(
            "saving file context under %s failed (%s); values changed since the last save are lost",
            runtime.settings.data_dir / "context", exc.strerror or exc,
        )
        return EXIT_FAILED
    return EXIT_OK


def _tune_garbage_collector() -> None:
    # Messages are short-lived dicts freed by reference counting; the cyclic
    # collector's default threshold (700 allocations) makes it scan the young
    # generation thousands of times per second under load. Objects alive after
    # start-up (modules, flows, nodes) are moved out of its way for good.
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outwire",
        description="Run Node-RED flows in Python, built for outbound campaigns.",
    )
    parser.add_argument("--version", action="version", version=f"outwire {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    _add_run_parser(subparsers)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``outwire`` command line and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (FlowFileError, SettingsError) as exc:
        print(f"outwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MissingTypesError as exc:
        print(f"outwire: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
