"""German input formats (everything else comes from Django's `de` formats).

The first is how date fields show a date (organizations.forms.DateInput): 01.12.2026,
whatever the browser's language. Two-digit years and ISO dates (2026-12-01, what
scripts and `<input type=date>` send) are accepted too.
"""

DATE_INPUT_FORMATS = ["%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"]
