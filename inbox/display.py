"""SLA clocks as people read them: "due in 12 min", amber once warned (80%
of the target), red when breached, paused while waiting on the customer,
with the channel's local time when it differs from the viewer's."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Conversation


@dataclass
class Clock:
    text: str
    level: str          # "", "warn", "bad" or "paused"
    due: datetime
    local: str = ""     # the channel's local time when it differs from the viewer's


def duration(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return _("%(n)s min") % {"n": max(minutes, 1)}
    hours = minutes // 60
    if hours < 48:
        return _("%(n)s h") % {"n": hours}
    return _("%(n)s d") % {"n": hours // 24}


def channel_time_zone(account) -> str:
    try:
        window = account.service_window
    except ObjectDoesNotExist:
        return ""
    return window.time_zone if window is not None else ""


def _channel_local(due: datetime, account) -> str:
    """"17:30 Europe/Madrid" when the channel's clock reads differently from the viewer's."""
    name = channel_time_zone(account)
    if not name:
        return ""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    viewer = timezone.get_current_timezone()
    local, mine = due.astimezone(zone), due.astimezone(viewer)
    if local.utcoffset() == mine.utcoffset():
        return ""
    day = "" if local.date() == mine.date() else local.strftime("%a ")
    return f"{day}{local:%H:%M} {name}"


def sla_clock(conversation: Conversation, now: datetime) -> Clock | None:
    due = conversation.clock_due_at
    if due is None:
        return None
    local = _channel_local(due, conversation.account)
    if conversation.sla_paused_at is not None:
        return Clock(_("paused: waiting on the customer"), "paused", due, local)
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        text = _("due in %(time)s") % {"time": duration(seconds)}
    else:
        text = _("overdue by %(time)s") % {"time": duration(seconds)}
    if conversation.first_response_breached and conversation.first_response_at is not None:
        text = _("%(clock)s · first response was late") % {"clock": text}
    level = "bad" if conversation.sla_breached or seconds < 0 else "warn" if conversation.sla_warned else ""
    return Clock(text, level, due, local)


