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
