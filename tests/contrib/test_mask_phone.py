"""Third-party node packages: found through entry points, as an installed package would be."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.registry import default_registry
from tests.support.flows import node, received, running_flow, tab


def install_entry_point(site: Path, name: str, target: str) -> None:
    """Write the metadata of a distribution whose only content is one outwire.nodes entry point."""
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text(f"[outwire.nodes]\n{name} = {target}\n", encoding="utf-8")


@pytest.fixture
def site_dir(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))
    importlib.invalidate_caches()


def test_entry_point_package_adds_node_type(site_dir: Path) -> None:
    install_entry_point(site_dir, "outwire-mask-phone", "contrib.mask_phone")

    registry = default_registry()

    assert registry.get("mask phone") is not None


async def test_mask_phone_node_masks_all_but_last_digits(site_dir: Path, tmp_path: Path) -> None:
    install_entry_point(site_dir, "outwire-mask-phone", "contrib.mask_phone")
    flow = [tab(), node("m1", "mask phone", [["out"]], keep=3), node("out", "sink")]

    async with running_flow(flow, tmp_path) as runtime:
        runtime.inject("m1", {"payload": "+44 7700 900123"})
        await runtime.wait_idle()

        assert received(runtime, "out")[0]["payload"] == "+** **** ***123"


def test_broken_entry_point_is_logged_and_skipped(site_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    install_entry_point(site_dir, "outwire-broken", "contrib.does_not_exist")

    with caplog.at_level(logging.ERROR, logger="outwire.runtime"):
        registry = default_registry()

    assert registry.get("inject") is not None
    assert any("outwire-broken" in r.getMessage() and "failed to load" in r.getMessage() for r in caplog.records)
