"""Text every database we run on can store."""


def storable_text_problem(value: str) -> str:
    """Why ``value`` cannot be stored as text (NUL, lone surrogates), or ""."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (no lone surrogates)."
    return ""


# A cell starting with one of these is read as a formula (or, after a tab or
# carriage return, may become one) by spreadsheet programs (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """``value`` as CSV cell text that a spreadsheet shows instead of
    running: a leading formula trigger is escaped with a single quote. Every
    CSV export writes its cells through this."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def is_number(value, *, max_digits: int = 18) -> bool:
    """A non-negative whole number written with ASCII digits only, short
    enough for a database id. ``str.isdigit`` alone accepts "²" and other
    digits ``int()`` refuses, which would turn bad input into a 500."""
    return isinstance(value, str) and 0 < len(value) <= max_digits and value.isascii() and value.isdigit()
