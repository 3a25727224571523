"""A wall-clock deadline for JavaScript runs that still lets JavaScript call into Python.

quickjs-ng's ``Context.set_time_limit`` refuses every call into Python while
a limit is set ("Can not call into Python with a time limit set"), and
function-node code calls Python for ``context.get`` and ``env.get``. So the
sandbox does not use it. Instead it installs its own QuickJS interrupt handler
on the context's runtime through the ``JS_SetInterruptHandler`` function that
the quickjs-ng extension exports. QuickJS calls the handler every few
thousand bytecode operations; it returns 1 (stop) once the deadline set by
:func:`set_deadline` has passed, and QuickJS then throws the uncatchable
``InternalError: interrupted``.

NOTE: this reads the ``JSRuntime`` and ``JSContext`` pointers from the
binding's context object (offsets 16 and 24, right after the Python object
header, in quickjs-ng 0.17). :func:`install` checks the pair with
``JS_GetRuntime`` before using it; if the layout ever differs, it returns
False and the sandbox runs without a deadline, logging that once.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

import _quickjs

_lib = ctypes.CDLL(_quickjs.__file__)
_lib.JS_SetInterruptHandler.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_lib.JS_SetInterruptHandler.restype = None
_lib.JS_GetRuntime.argtypes = [ctypes.c_void_p]
_lib.JS_GetRuntime.restype = ctypes.c_void_p

_HANDLER_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

# Only one JavaScript run is active at a time: runs happen on the event loop's
# thread and never nest, so one deadline serves every context. 0 means none.
_deadline = 0.0
_clock = time.monotonic


def _interrupt(_runtime: Any, _opaque: Any) -> int:
    return 1 if _deadline and _clock() > _deadline else 0


_HANDLER = _HANDLER_TYPE(_interrupt)

_POINTER_SIZE = ctypes.sizeof(ctypes.c_void_p)
_OBJECT_HEADER_BYTES = 2 * _POINTER_SIZE  # ob_refcnt and ob_type


def install(context: Any) -> bool:
    """Install the deadline handler on ``context``'s runtime; False if that is not possible."""
    base = id(context) + _OBJECT_HEADER_BYTES
    runtime_ptr = ctypes.c_void_p.from_address(base).value
    context_ptr = ctypes.c_void_p.from_address(base + _POINTER_SIZE).value
    if not runtime_ptr or not context_ptr or _lib.JS_GetRuntime(context_ptr) != runtime_ptr:
        return False
    _lib.JS_SetInterruptHandler(runtime_ptr, _HANDLER, None)
    return True


def set_deadline(seconds_from_now: float) -> None:
    """Stop JavaScript runs after ``seconds_from_now`` seconds; 0 or less removes the deadline."""
    global _deadline
    _deadline = _clock() + seconds_from_now if seconds_from_now > 0 else 0.0


def clear_deadline() -> None:
    """Remove the deadline."""
    global _deadline
    _deadline = 0.0
