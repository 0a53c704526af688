"""Local days, weeks (Monday first), months and quarters in the organisation's time zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def starts(day: date) -> dict[str, date]:
    return {"week": week_start(day), "month": month_start(day), "quarter": quarter_start(day)}
