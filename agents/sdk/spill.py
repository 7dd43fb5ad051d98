"""Results an agent finished but could not publish before it had to stop, kept on disk.

The bus retries a result until its task's deadline; an agent that must shut down first hands
what is left to ``ResultSpill.keep``, which appends it to a file. The next start of an agent
of the same name in the same place publishes the file's results (``publish``) before it takes
new tasks. A result the orchestrator no longer needs is recorded there as a late duplicate.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from bus.envelope import Envelope
from bus.transport import Reply, Transport

logger = logging.getLogger("agents.sdk")


class ResultSpill:
    """One JSON line per unsent reply: ``{"stream", "envelope"}``.

    Args:
        path: The file; its folder is created when the first reply is kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_agent(cls, folder: Path, agent_name: str) -> ResultSpill:
        """The spill file of agents named ``agent_name`` in ``folder``."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in agent_name)
        return cls(folder / f"{safe}.unsent.jsonl")

    async def keep(self, replies: Sequence[Reply]) -> None:
        """Append ``replies`` (whole lines with O_APPEND: agents sharing the file do not mix)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(
            json.dumps({"stream": stream, "envelope": envelope.to_json().decode()}) + "\n"
            for stream, envelope in replies
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)
        logger.warning("kept %d unsent result(s) in %s", len(replies), self.path)

    async def publish(self, transport: Transport) -> int:
        """Publish what earlier runs kept, then forget it; returns how many were published.

        The file is renamed first, so replies kept meanwhile go to a new file, not lost. If
        publishing fails, the taken file is put back for the next start.
        """
        if not self.path.exists():
            return 0
        taken = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        try:
            self.path.rename(taken)
        except FileNotFoundError:  # another agent took it first
            return 0
        items = []
        for line in taken.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                items.append((str(record["stream"]), Envelope.from_json(record["envelope"])))
        try:
            await transport.publish_many(items)
        except Exception:
            await ResultSpill(self.path).keep(items)
            taken.unlink()
            raise
        taken.unlink()
        logger.info("published %d result(s) kept by an earlier run", len(items))
        return len(items)
