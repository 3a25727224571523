"""Message cloning with Node-RED's rules, including messages Python cannot copy by recursion."""

from __future__ import annotations

from typing import Any

from runtime.message import clone_message, clone_value


def test_clone_message_copies_circular_reference() -> None:
    contact: dict[str, Any] = {"name": "Ann"}
    contact["self"] = contact
    msg = {"_msgid": "m1", "payload": contact, "also": contact}

    copy = clone_message(msg)

    assert copy["payload"] is not contact
    assert copy["payload"]["name"] == "Ann"
    assert copy["payload"]["self"] is copy["payload"]
    # lodash's cloneDeep, which Node-RED uses, keeps shared references shared in the copy.
    assert copy["also"] is copy["payload"]


def test_clone_message_keeps_request_shared_when_circular() -> None:
    request = {"url": "/x"}
    loop: list[Any] = []
    loop.append(loop)
    msg = {"_msgid": "m1", "req": request, "payload": loop}

    copy = clone_message(msg)

    assert copy["req"] is request
    assert copy["payload"] is not loop
    assert copy["payload"][0] is copy["payload"]


def test_clone_message_copies_reference_to_itself() -> None:
    msg: dict[str, Any] = {"_msgid": "m1"}
    msg["original"] = msg

    copy = clone_message(msg)

    assert copy is not msg
    assert copy["original"] is copy


def test_clone_value_copies_nesting_deeper_than_python_stack() -> None:
    depth = 100_000
    nested: list[Any] = []
    innermost = nested
    for _ in range(depth):
        inner: list[Any] = []
        innermost.append(inner)
        innermost = inner
    innermost.append("end")

    copy = clone_value(nested)

    for _ in range(depth):
        assert copy is not nested
        copy, nested = copy[0], nested[0]
    assert copy == ["end"]
