"""docs/client.md's examples, run as written by a newcomer: the tutorial's ``shop`` agent and
``basket`` workflow in place (the page says so), each ``python`` block run as a script that finds
the server through ``MODX_URL`` and ``MODX_API_TOKEN``, and its output checked against what the
page says the example prints."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from pathlib import Path

import yaml

from tests.docs.test_tutorial import parse
from tests.fixtures.stack import REPO, Stack

PAGE = REPO / "docs" / "client.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


async def tutorial_shop(stack: Stack, directory: Path) -> None:
    """The tutorial's agent running and its ``basket.yaml`` registered."""
    files, _ = parse((REPO / "docs" / "tutorial.md").read_text())
    (directory / "shop.py").write_text(files["shop.py"])
    spec = importlib.util.spec_from_file_location("tutorial_shop", directory / "shop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await stack.agent(module.agent)
    workflow = yaml.safe_load(files["basket.yaml"])
    assert (await stack.client.post("/v1/workflows", json=workflow)).status_code in (200, 201)


async def run_script(stack: Stack, directory: Path, code: str) -> str:
    script = directory / "example.py"
    script.write_text(code)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        cwd=directory,
        env=stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 0, text
    return text


async def test_the_client_page_examples_run_as_written(stack: Stack, tmp_path: Path) -> None:
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) == 2, "the page's examples changed: update this test"
    await tutorial_shop(stack, tmp_path)

    blocking = (await run_script(stack, tmp_path, blocks[0])).splitlines()
    assert blocking[0] == "run.created None None -> pending", blocking
    assert "step.succeeded total running -> succeeded" in blocking
    assert blocking[-2] == "run.succeeded None running -> succeeded", blocking
    assert blocking[-1] == "succeeded 4.25 ['succeeded', 'succeeded', 'succeeded', 'succeeded']"

    streamed = (await run_script(stack, tmp_path, blocks[1])).splitlines()
    assert streamed[0].startswith("Event(") and "type='run.created'" in streamed[0], streamed
    assert "type='run.succeeded'" in streamed[-1], streamed
