"""Pages of a list: their size limits and the cursor that says where the next page starts.

Light on purpose (standard library only): the HTTP client uses it too. A cursor is opaque to callers; inside
it is the sort key (creation time, id) of the last item of the page, so a page never skips or repeats an item
however many are created or deleted in between.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from cloudplane.errors import InputError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return limit


def encode_cursor(created_at: datetime, item_id: str) -> str:
    if created_at.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        created_at = created_at.replace(tzinfo=UTC)
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), item_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: Any) -> tuple[datetime, str]:
    """The (creation time, id) after which the next page starts; InputError for anything not made here."""
    try:
        if not isinstance(cursor, str):
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, item_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None or not isinstance(item_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        shown = repr(cursor)[:60]
        raise InputError(
            f"invalid cursor {shown}: pass the next_cursor of the previous page unchanged"
        ) from None
    return moment, item_id
