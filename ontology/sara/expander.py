"""Run case files' fact sections through a sandboxed SWI-Prolog process (``expand.pl``).

One process serves many cases (``parse_cases`` over 256 files starts SWI-Prolog once). The
process reads untrusted clauses as terms and never consults them, and it runs with its own stack
limit, a cap on its address space (``memory_cap``: atoms are outside the stacks) and per-case
time and inference limits; if it dies or stops answering it is killed and the
next case starts a fresh one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from ontology.errors import CaseFormatError
from ontology.reasoner.process import address_space_mb, memory_cap

EXPAND_PL = Path(__file__).with_name("expand.pl")


class CaseExpander:
    """A reusable sandboxed SWI-Prolog process that expands case fact sections.

    Use as a context manager, or call ``close()``; the process starts on first use.

    Args:
        swipl: The ``swipl`` executable.
        time_s: Wall-clock limit for one case's rules.
        inferences: Inference limit for one case's rules.
        stack_limit_mb: Prolog stack limit of the process.
    """

    def __init__(
        self,
        swipl: str | None = None,
        *,
        time_s: float = 5.0,
        inferences: int = 50_000_000,
        stack_limit_mb: int = 256,
    ) -> None:
        self._swipl = swipl or shutil.which("swipl") or "swipl"
        self._time_s = time_s
        self._inferences = inferences
        self._stack_limit_mb = stack_limit_mb
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> CaseExpander:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        cmd = [
            self._swipl,
            "-f",
            "none",
            "--no-packs",
            "-q",
            "--no-tty",
            f"--stack-limit={self._stack_limit_mb}m",
            "-g",
            "sara_expand:main",
            "-t",
            "halt",
            str(EXPAND_PL),
        ]
        try:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                preexec_fn=memory_cap(address_space_mb(self._stack_limit_mb)),
            )
        except OSError as exc:
            raise CaseFormatError(
                f"cannot start SWI-Prolog ({self._swipl}): {exc}", code="swipl_unavailable"
            ) from exc

    def expand(self, case_id: str, facts_text: str, test_text: str) -> dict[str, Any]:
        """Expand one case.

        Args:
            case_id: Used in error messages.
            facts_text: The file with every line outside ``% Facts`` blanked.
            test_text: The file with every line outside ``% Test`` blanked.

        Returns:
            The decoded response: ``types``, ``roles``, ``non_ground``, ``other``, ``tests``.

        Raises:
            CaseFormatError: The case's clauses are invalid, unsafe, or too costly to expand.
        """
        request = {
            "id": case_id,
            "facts_text": facts_text,
            "test_text": test_text,
            "limits": {"time_s": self._time_s, "inferences": self._inferences},
        }
        with self._lock:
            line = self._roundtrip(case_id, json.dumps(request))
        response: dict[str, Any] = json.loads(line)
        if not response.get("ok"):
            err = response.get("error") or {}
            raise CaseFormatError(
                str(err.get("message", "expansion failed")),
                code=str(err.get("code", "prolog_error")),
                line=err.get("line"),
                case_id=case_id,
            )
        return response

    def _roundtrip(self, case_id: str, payload: str) -> str:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        # Prolog enforces time_s itself; this watchdog only catches a process that hangs anyway.
        watchdog = threading.Timer(self._time_s + 10.0, proc.kill)
        watchdog.start()
        try:
            proc.stdin.write(payload + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        finally:
            watchdog.cancel()
        if not line:
            self._kill()
            raise CaseFormatError(
                "the expansion process died (or was killed after a hang)",
                code="expander_crashed",
                case_id=case_id,
            )
        return line

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._proc = None

    def close(self) -> None:
        """Stop the process (end of input makes it exit; kill it if it does not)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
