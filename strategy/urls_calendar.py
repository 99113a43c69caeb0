"""The content calendar's calendar pages (included by strategy.urls under /strategy/calendar/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
