"""The content calendar's posts pages (included by strategy.urls under /strategy/posts/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
