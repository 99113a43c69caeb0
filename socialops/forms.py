from django.core.exceptions import ValidationError


def apply_service_errors(form, exc: ValidationError) -> None:
    """Puts a service's ValidationError next to the fields it names; errors
    about fields the form does not show go on top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
