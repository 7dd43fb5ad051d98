"""One SWI-Prolog worker process and its line protocol (see ``worker.pl``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ontology.errors import WorkerCrashed, WorkerStartError

WORKER_PL = Path(__file__).with_name("worker.pl")
_LINE_LIMIT = 64 * 1024 * 1024  # proofs of big cases are long single JSON lines


def memory_cap(megabytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps a Prolog process's address space at ``megabytes``.

    ``--stack-limit`` bounds Prolog's stacks only: atoms, and what C builtins allocate, are
    outside it, so one rule of an untrusted case (``format(atom(A), '~`xt~400000000|', [])``)
    grew a process to 3.4 GB within its time limit. With the cap such an allocation fails
    inside the process (a resource error of that case, or the process dies and the next case
    starts a fresh one) instead of taking the machine's memory."""
    limit = megabytes * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return cap


def address_space_mb(stack_limit_mb: int) -> int:
    """The address space a Prolog process with ``stack_limit_mb`` of stacks may use: twice
    its stacks and a margin for the system's own tables (a process expanding all 256 SARA
    cases uses 44 MB)."""
    return 2 * stack_limit_mb + 256


def worker_command(
    swipl: str, rules: Sequence[Path], *, prove: str, stack_limit_mb: int
) -> list[str]:
    """The command line that starts one worker."""
    return [
        swipl,
        "-f",
        "none",
        "--no-packs",
        "-q",
        "--no-tty",
        f"--stack-limit={stack_limit_mb}m",
        "-g",
        "modx_reasoner_worker:main",
        "-t",
        "halt(1)",
        str(WORKER_PL),
        "--",
        f"--prove={prove}",
        *map(str, rules),
    ]


class WorkerProcess:
    """A started worker: send a request dict, get the response dict."""

    def __init__(self, command: Sequence[str], *, memory_mb: int | None = None) -> None:
        self._command = list(command)
        self._memory_mb = memory_mb
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._stderr_task: asyncio.Task[None] | None = None
        self.pid: int | None = None

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.returncode is None

    def stderr_tail(self) -> str:
        """The last lines the worker wrote to stderr (for error messages)."""
        return "\n".join(self._stderr_tail)

    async def start(self, timeout_s: float) -> None:
        """Start the process and wait until it has loaded the rules.

        Raises:
            WorkerStartError: swipl cannot run, or the rules do not load.
        """
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
                preexec_fn=None if self._memory_mb is None else memory_cap(self._memory_mb),
            )
        except OSError as exc:
            raise WorkerStartError(f"cannot run {self._command[0]}: {exc}") from exc
        self.pid = self._proc.pid
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        try:
            line = await asyncio.wait_for(self._read_line(), timeout_s)
            ready = json.loads(line)
        except (TimeoutError, WorkerCrashed, ValueError) as exc:
            await self.kill()
            raise WorkerStartError(
                f"worker did not start: {exc}; stderr: {self.stderr_tail()}",
            ) from exc
        if not ready.get("ready"):
            await self.kill()
            message = (ready.get("error") or {}).get("message", "unknown error")
            raise WorkerStartError(f"rules failed to load: {message}")

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        # Keep reading so a chatty worker never blocks on a full pipe.
        while line := await self._proc.stderr.readline():
            self._stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    async def _read_line(self) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            line = await self._proc.stdout.readline()
        except (ValueError, asyncio.LimitOverrunError) as exc:
            raise WorkerCrashed(f"response line too long: {exc}") from exc
        if not line:
            await self._reap()
            raise WorkerCrashed(
                f"worker exited (code {self._proc.returncode}); stderr: {self.stderr_tail()}"
            )
        return line

    async def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request and wait for its response line.

        Raises:
            TimeoutError: No response within ``timeout_s`` (the caller must kill the worker).
            WorkerCrashed: The process died or wrote something unreadable.
        """
        assert self._proc is not None and self._proc.stdin is not None
        data = (json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            await self._reap()
            raise WorkerCrashed(f"worker pipe closed: {exc}") from exc
        line = await asyncio.wait_for(self._read_line(), timeout_s)
        try:
            response: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise WorkerCrashed(f"unreadable response: {line[:200]!r}") from exc
        return response

    async def _reap(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 5)

    async def kill(self) -> None:
        """Kill the process at once and reap it."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        await self._finish()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the worker to exit (end of input), killing it if it does not."""
        if self._proc is not None and self._proc.returncode is None:
            assert self._proc.stdin is not None
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
        await self._finish()

    async def _finish(self) -> None:
        if self._proc is not None:
            await self._proc.wait()
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._stderr_task, 5)
