"""Register imports started from the admin page: their progress and outcome (CONTRACT `register import`).

Why a table: a long file is checked and stored by an outbox job, possibly in an RQ worker, while
the browser polls for progress; the row is what both sides share. The uploaded file is personal
data, so `csv_text` is cleared as soon as the run ends (R9: kept no longer than necessary).
"""
from typing import Any
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class RegisterImportRun(Base):
    __tablename__ = "register_import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|checking|storing|done|rejected
    dry_run: Mapped[bool] = mapped_column(default=False)  # check and count only; store nothing
    percent: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    numbers: Mapped[int] = mapped_column(Integer, default=0)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    already_held: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[line, reason], ...]
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    csv_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
