"""Date formatting with moment.js format strings, for the inject and change nodes' date type and ``$moment``.

Supported tokens: ``YYYY YY Q M MM MMM MMMM D DD Do DDD DDDD d dd ddd dddd E
H HH h hh k kk m mm s ss S SS SSS A a Z ZZ X x W WW`` and ``[literal]``
text. Times use the process's local time zone (``TZ``), as moment does.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from runtime.jsvalues import date_from_ms, date_to_iso, to_js_number

_TOKEN_RE = re.compile(
    r"\[[^\]]*\]|YYYY|YY|Qo|Q|MMMM|MMM|MM|Mo|M|DDDD|DDD|Do|DD|D|dddd|ddd|dd|do|d|E|e|"
    r"HH|H|hh|h|kk|k|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x|WW|W|ww|w"
)

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

# moment's default format() output: ISO 8601 with the local offset, no milliseconds.
DEFAULT_FORMAT = "YYYY-MM-DDTHH:mm:ssZ"


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _offset(moment: _dt.datetime, sep: str) -> str:
    delta = moment.utcoffset() or _dt.timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{sep}{minutes % 60:02d}"


def format_moment(moment: _dt.datetime, pattern: str = DEFAULT_FORMAT) -> str:
    """Format a local datetime with a moment.js pattern."""

    def token(match: re.Match[str]) -> str:
        t = match.group(0)
        if t.startswith("["):
            return t[1:-1]
        weekday = (moment.weekday() + 1) % 7  # moment: Sunday is 0
        hour12 = moment.hour % 12 or 12
        values = {
            "YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}",
            "Q": str((moment.month - 1) // 3 + 1), "Qo": _ordinal((moment.month - 1) // 3 + 1),
            "M": str(moment.month), "MM": f"{moment.month:02d}", "Mo": _ordinal(moment.month),
            "MMM": _MONTHS[moment.month - 1][:3], "MMMM": _MONTHS[moment.month - 1],
            "D": str(moment.day), "DD": f"{moment.day:02d}", "Do": _ordinal(moment.day),
            "DDD": str(moment.timetuple().tm_yday), "DDDD": f"{moment.timetuple().tm_yday:03d}",
            "d": str(weekday), "do": _ordinal(weekday), "dd": _DAYS[weekday][:2],
            "ddd": _DAYS[weekday][:3], "dddd": _DAYS[weekday],
            "E": str(moment.isoweekday()), "e": str(weekday),
            "H": str(moment.hour), "HH": f"{moment.hour:02d}",
            "h": str(hour12), "hh": f"{hour12:02d}",
            "k": str(moment.hour or 24), "kk": f"{moment.hour or 24:02d}",
            "m": str(moment.minute), "mm": f"{moment.minute:02d}",
            "s": str(moment.second), "ss": f"{moment.second:02d}",
            "S": str(moment.microsecond // 100000), "SS": f"{moment.microsecond // 10000:02d}",
            "SSS": f"{moment.microsecond // 1000:03d}",
            "A": "AM" if moment.hour < 12 else "PM", "a": "am" if moment.hour < 12 else "pm",
            "Z": _offset(moment, ":"), "ZZ": _offset(moment, ""),
            "X": str(int(moment.timestamp())), "x": str(int(moment.timestamp() * 1000)),
            "W": str(moment.isocalendar()[1]), "WW": f"{moment.isocalendar()[1]:02d}",
            "w": str(moment.isocalendar()[1]), "ww": f"{moment.isocalendar()[1]:02d}",
        }
        return values[t]

    return _TOKEN_RE.sub(token, pattern)


def now_local() -> _dt.datetime:
    """Return the current time in the process's local zone."""
    return _dt.datetime.now().astimezone()


def moment_call(*args: Any) -> dict[str, Any]:
    """Build what ``$moment(...)`` returns in JSONata: an object with moment's common methods."""
    if not args or args[0] is None:
        moment = now_local()
    elif isinstance(args[0], (int, float)) and not isinstance(args[0], bool):
        moment = date_from_ms(float(args[0])).astimezone()
    else:
        text = str(args[0])
        try:
            moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = date_from_ms(float(to_js_number(text))).astimezone()
        if moment.tzinfo is None:
            moment = moment.astimezone()

    return {
        "format": lambda pattern=DEFAULT_FORMAT: format_moment(moment, pattern or DEFAULT_FORMAT),
        "toISOString": lambda: date_to_iso(moment),
        "valueOf": lambda: int(moment.timestamp() * 1000),
        "unix": lambda: int(moment.timestamp()),
    }
