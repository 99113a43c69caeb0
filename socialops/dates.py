"""Dates people and clients send us, kept inside a range every database,
time zone and calendar computation can handle (a year-1 or year-9999 date
shifted by a time zone overflows)."""

from datetime import UTC, date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import filters as filter_fields
from django_filters import rest_framework as drf_filters

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
RANGE_MESSAGE = _("Must be between the years 2000 and 2100.")


def check_range(value):
    """Returns ``value`` (a date or an aware datetime) or raises ValidationError."""
    if value is None:
        return value
    try:
        year = value.astimezone(UTC).year if isinstance(value, datetime) and value.tzinfo else value.year
    except (OverflowError, ValueError):
        raise ValidationError(RANGE_MESSAGE) from None
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValidationError(RANGE_MESSAGE)
    return value


class BoundedDateField(forms.DateField):
    def clean(self, value):
        return check_range(super().clean(value))


class BoundedIsoDateTimeField(filter_fields.IsoDateTimeField):
    def clean(self, value):
        return check_range(super().clean(value))


class BoundedIsoDateTimeFilter(drf_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


__all__ = ["BoundedDateField", "BoundedIsoDateTimeFilter", "check_range", "date"]
