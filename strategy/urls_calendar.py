"""The content calendar's calendar pages (included by strategy.urls under /strategy/calendar/)."""

from django.urls import path

from . import views_calendar

urlpatterns: list = [
    path("", views_calendar.calendar_page, name="calendar"),
    path("move/", views_calendar.calendar_move, name="calendar-move"),
]
