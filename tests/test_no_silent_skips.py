"""The CI rule on skips (tests/fixtures/skips.py), shown on tiny test files run by a real pytest.

In CI mode (``MODX_TEST_REQUIRE_SERVICES=1``) a skip, wherever it comes from, fails the run; on
a laptop it stays a skip. An empty parameter list fails collection in both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.fixtures.stack import REPO

FILES = {
    "test_bare_skip.py": "import pytest\n\ndef test_x():\n    pytest.skip('no data')\n",
    "test_module_skip.py": "import pytest\n\npytest.importorskip('modx_no_such_module')\n\n"
    "def test_y():\n    pass\n",
    "test_skip_in_fixture.py": "import pytest\n\n@pytest.fixture\ndef data():\n"
    "    pytest.skip('data set missing')\n\ndef test_z(data):\n    pass\n",
    "test_expected_failure.py": "import pytest\n\n@pytest.mark.xfail(strict=True)\n"
    "def test_known_bug():\n    assert False\n\ndef test_fine():\n    pass\n",
}


def run_pytest(tmp: Path, ci: bool, *files: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "MODX_TEST_REQUIRE_SERVICES"}
    if ci:
        env["MODX_TEST_REQUIRE_SERVICES"] = "1"
    env["PYTHONPATH"] = str(REPO)
    options = ["-p", "tests.fixtures.skips", "-p", "no:cacheprovider", "--rootdir", str(tmp)]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), *options, *files],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stdout + proc.stderr


def summary(output: str) -> dict[str, int]:
    last = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    assert last, output
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last[-1])}


def test_a_skip_fails_the_run_in_ci_and_stays_a_skip_elsewhere(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    in_tests = [name for name in FILES if name != "test_module_skip.py"]
    code, output = run_pytest(tmp_path, True, *in_tests)
    assert code == 1, output
    # The bare skip fails, the fixture's skip is an error at setup; an expected failure stays one.
    assert summary(output) == {"failed": 1, "error": 1, "passed": 1, "xfailed": 1}, output
    assert "skipped while MODX_TEST_REQUIRE_SERVICES=1" in output
    assert "Skipped: no data" in output and "Skipped: data set missing" in output
    # A module that skips while collected (importorskip) stops the run with an error.
    code, output = run_pytest(tmp_path, True, "test_module_skip.py")
    assert code == 2 and summary(output) == {"error": 1}, output
    assert "modx_no_such_module" in output

    code, output = run_pytest(tmp_path, False, *FILES)
    assert code == 0, output
    assert summary(output) == {"passed": 1, "skipped": 3, "xfailed": 1}, output


def test_an_empty_parameter_list_fails_collection(tmp_path: Path) -> None:
    (tmp_path / "test_empty.py").write_text(
        "import pytest\n\nROWS = []\n\n@pytest.mark.parametrize('row', ROWS)\n"
        "def test_row(row):\n    pass\n"
    )
    code, output = run_pytest(tmp_path, False, "test_empty.py")
    assert code != 0, output
    assert "Empty parameter set" in output and summary(output).get("error") == 1, output
