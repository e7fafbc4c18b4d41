"""What the stale and expiry checks are configured by: the date they take as today, the
warning window, and how long a report stays current after its period or test.

Read from ``DDQ_`` environment variables when :func:`trust_settings` is called (never at
import), or built directly in tests. ``DDQ_TODAY`` pins the date, so a test, an evaluation or
an audit replay gives the same answers on any day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ddq.errors import DDQError, ErrorCode


class TrustSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DDQ_", extra="ignore", env_ignore_empty=True)

    today: date | None = Field(
        default=None,
        description="The date expiry is judged on (YYYY-MM-DD); default: the real date (UTC).",
    )
    expiry_warning_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="`ddq stale` lists evidence that expires within this many days.",
    )
    soc_report_valid_months: int = Field(
        default=12,
        ge=0,
        le=120,
        description="How long a SOC 1/2/3 report is current after the end of its period "
        "(0: expired as soon as the period ends).",
    )
    pentest_valid_months: int = Field(
        default=12,
        ge=0,
        le=120,
        description="How long a penetration test report is current after its date.",
    )

    def current_date(self) -> date:
        return self.today or datetime.now(UTC).date()


def trust_settings(**overrides: object) -> TrustSettings:
    """The settings from the environment, with ``overrides`` (None values ignored)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return TrustSettings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise DDQError(ErrorCode.CONFIG, f"DDQ_{where.upper()}: {first['msg']}") from exc
