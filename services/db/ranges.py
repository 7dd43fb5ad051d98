"""The integer ranges of the database's columns, for the API's typed fields.

``Integer`` columns are 32-bit on PostgreSQL and ``BigInteger`` ones 64-bit; a value past
them is a 422 naming the field, not a 500 from the driver.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A workflow version (an ``Integer`` column)."""
EventId = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""An event id (a ``BigInteger`` column)."""
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count kept in an ``Integer`` column."""
