"""The SLA clock chip: "due in 12 min", amber at 80% (warned), red when breached."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def _span(delta_seconds: float) -> str:
    minutes = int(abs(delta_seconds) // 60)
    if minutes < 60:
        return _("%(n)s min") % {"n": minutes}
    if minutes < 48 * 60:
        return _("%(h)s h %(m)s min") % {"h": minutes // 60, "m": minutes % 60}
    return _("%(d)s days") % {"d": minutes // (24 * 60)}


@register.simple_tag
def sla_chip(conversation, now=None):
    now = now or timezone.now()
    if conversation.sla_paused_at:
        return format_html('<span class="chip" data-sla="paused">{}</span>', _("paused: waiting on customer"))
    due = conversation.clock_due_at
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    if conversation.sla_breached or seconds < 0:
        return format_html('<span class="chip bad" data-sla="breached" title="{}">{}</span>', due.isoformat(),
                           _("overdue by %(span)s") % {"span": _span(seconds)})
    css = "warn" if conversation.sla_warned else "ok"
    return format_html('<span class="chip {}" data-sla="{}" title="{}">{}</span>', css,
                       "warning" if conversation.sla_warned else "running", due.isoformat(),
                       _("due in %(span)s") % {"span": _span(seconds)})
