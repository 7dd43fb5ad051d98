"""``MODX_BUS_MAX_ENTRY_BYTES`` must leave room for an answer the orchestrator accepts: an
answer rides in one bus entry, and larger entries are removed unread."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.config import Settings


def test_a_bound_under_the_largest_answer_is_refused_naming_both() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(max_answer_bytes=8 * 1024 * 1024)
    message = str(refused.value)
    assert "MODX_BUS_MAX_ENTRY_BYTES (5242880)" in message
    assert "MODX_MAX_ANSWER_BYTES (8388608)" in message
    raised = Settings(max_answer_bytes=8 * 1024 * 1024, bus_max_entry_bytes=9 * 1024 * 1024)
    assert raised.bus_max_entry_bytes == 9 * 1024 * 1024
