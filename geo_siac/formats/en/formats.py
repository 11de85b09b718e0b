"""English dates as a Chilean municipality writes them for an English reader: "2 December 2026, 14:30" (day first,
24-hour clock), not Django's American "Dec. 2, 2026, 2:30 p.m.". Spanish keeps Django's `es` formats."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1
