from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


def apply_service_errors(form, exc: ValidationError) -> None:
    """Puts a service's ValidationError next to the fields it names; errors
    about fields the form does not show go on top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@dataclass
class Outcome:
    ok: bool
    value: Any = None


def submit(form, action: Callable[[dict], Any]) -> Outcome:
    """The one shape of every form that calls a service: when the form is
    valid, run ``action(cleaned_data)``; a service's ValidationError lands
    next to the fields it names. ``ok`` says whether it went through and
    ``value`` holds what the service returned."""
    if not form.is_valid():
        return Outcome(False)
    try:
        return Outcome(True, action(form.cleaned_data))
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return Outcome(False)
