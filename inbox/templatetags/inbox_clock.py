"""The SLA clock chip for templates outside the inbox pages (My work)."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from ..display import sla_clock

register = template.Library()


@register.simple_tag
def sla_chip(conversation, now=None):
    clock = sla_clock(conversation, now or timezone.now())
    if clock is None:
        return ""
    css = {"bad": "bad", "warn": "warn", "paused": ""}.get(clock.level, "ok")
    return format_html('<span class="chip {}" data-sla="{}" title="{}">{}</span>', css, clock.level or "running",
                       clock.due.isoformat(), clock.text)
