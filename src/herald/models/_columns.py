"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from herald.db.types import UTCDateTime
from herald.domain.ids import new_id
from herald.domain.timestamps import utc_now

ID_LENGTH = 24


def id_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, default=utc_now)
