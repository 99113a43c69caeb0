"""The personal digest settings, beside the other personal pages under /me/."""

from django.urls import path

from . import views_digest, views_feed

urlpatterns = [
    path("me/digest/", views_digest.digest_settings, name="digest-settings"),
    path("me/calendar-feed/", views_feed.feed_settings, name="calendar-feed-settings"),
]
