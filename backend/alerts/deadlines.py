"""Time counted in covered hours: the organisation's working window on covered weekdays, public holidays
excluded (the `holidays` package, for the organisation's region)."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from backend.organisation.models import Organisation

ACK_MINUTES = {"urgent": 60}  # urgent: 1 covered hour; high and normal count in working days
ACK_WORKING_DAYS = {"high": 1, "normal": 3}


@lru_cache(maxsize=32)
def _holidays(region: str, year: int) -> frozenset[date]:
    country, _, subdivision = region.partition("-")
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar.keys())


class CoveredHours:
    def __init__(self, org: Organisation) -> None:
        self.tz = ZoneInfo(org.time_zone)
        self.start: time = org.covered_from
        self.end: time = org.covered_until
        self.weekdays = {int(d) for d in org.covered_weekdays.split(",") if d.strip().isdigit()}
        self.region = org.holiday_region

    def is_covered_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in _holidays(self.region, day.year)

    def window(self, day: date) -> tuple[datetime, datetime]:
        return datetime.combine(day, self.start, tzinfo=self.tz), datetime.combine(day, self.end, tzinfo=self.tz)

    def is_covered(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        start, end = self.window(local.date())
        return self.is_covered_day(local.date()) and start <= local < end

    def next_covered_start(self, moment: datetime) -> datetime:
        """When someone will next be watching: now if covered, else the start of the next covered window."""
        if self.is_covered(moment):
            return moment
        day = moment.astimezone(self.tz).date()
        for offset in range(0, 60):
            candidate = day + timedelta(days=offset)
            start, _ = self.window(candidate)
            if self.is_covered_day(candidate) and start > moment:
                return start
        raise ValueError("No covered hours in the next 60 days: check the organisation's covered days.")

    def add(self, moment: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` of covered time after ``moment``."""
        remaining = timedelta(minutes=minutes)
        cursor = self.next_covered_start(moment)
        for _ in range(400):
            day = cursor.astimezone(self.tz).date()
            _, end = self.window(day)
            available = end - cursor
            if remaining <= available:
                return cursor + remaining
            remaining -= available
            cursor = self.next_covered_start(end)
        raise ValueError("Deadline beyond the covered calendar.")

    def working_day_minutes(self) -> int:
        start, end = self.window(date(2026, 1, 5))
        return int((end - start).total_seconds() // 60)

    def ack_deadline(self, severity: str, raised_at: datetime) -> datetime:
        if severity in ACK_MINUTES:
            return self.add(raised_at, ACK_MINUTES[severity])
        return self.add(raised_at, ACK_WORKING_DAYS.get(severity, 3) * self.working_day_minutes())
