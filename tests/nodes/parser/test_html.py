"""The html node: CSS selection with Beautiful Soup and soupsieve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.harness import FlowHarness
from tests.support.nodeflows import flow_of, settle

PAGE = '<ul><li class="a b" id="one">One &amp; <i>1</i></li><li>Two<br></li></ul>'


def html_node(**options: Any) -> dict[str, Any]:
    node = {"id": "h", "type": "html", "property": "payload", "outproperty": "payload", "tag": "li", "ret": "html",
            "as": "single", "chr": "_"}
    node.update(options)
    return node


async def test_html_keeps_class_attribute_as_text(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(html_node(ret="attr"))) as run:
        run.inject("h", {"payload": PAGE})
        await settle(run)
        assert run.received("out")[0]["payload"] == [{"class": "a b", "id": "one"}, {}]


async def test_html_inner_html_in_xml_form(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(html_node())) as run:
        run.inject("h", {"payload": PAGE})
        await settle(run)
        assert run.received("out")[0]["payload"] == ["One &amp; <i>1</i>", "Two<br/>"]


async def test_html_invalid_selector_reaches_catch(tmp_path: Path) -> None:
    async with FlowHarness(tmp_path, flow_of(html_node(tag="li["))) as run:
        run.inject("h", {"payload": PAGE})
        await settle(run)
        assert run.received("out") == []
        assert "Malformed attribute selector" in run.received("caught")[0]["error"]["message"]
