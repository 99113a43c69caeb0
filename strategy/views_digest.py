"""Pages of the weekly reputation digest: each executive's own choice of
day and hour (or none at all), and the admins' list of deliveries with
"send again" for the failed ones. Thin: the rules live in
``strategy.digest``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from socialops.forms import submit
from socialops.views import render_invalid

from . import digest
from .models import DigestDelivery, DigestPreference

HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]


class DigestPreferenceForm(forms.Form):
    enabled = forms.BooleanField(label=_lazy("Send me the weekly reputation digest"), required=False)
    weekday = forms.TypedChoiceField(label=_lazy("Day"), choices=DigestPreference.Weekday.choices, coerce=int,
                                     error_messages={"invalid_choice": _lazy("Choose a day of the week.")})
    hour = forms.TypedChoiceField(label=_lazy("Hour"), choices=HOUR_CHOICES, coerce=int,
                                  help_text=_lazy("In your own time zone."),
                                  error_messages={"invalid_choice": _lazy("Choose an hour from 00:00 to 23:00.")})


def _settings_context(request, form=None) -> dict:
    user = request.user
    context = {"is_recipient": digest.is_digest_recipient(user),
               "can_manage_deliveries": digest.can_manage_deliveries(user)}
    if not context["is_recipient"]:
        return context
    schedule = digest.schedule_of(user)
    next_at = digest.next_digest_at(user)
    if form is None:
        form = DigestPreferenceForm(initial={"enabled": schedule.enabled, "weekday": schedule.weekday,
                                             "hour": schedule.hour})
    context.update({
        "form": form, "schedule": schedule, "tz_name": str(schedule.tz),
        "tz_is_own": bool(user.time_zone), "next_at": next_at,
        "next_is_now": next_at is not None and next_at <= timezone.now(),
        "recent": DigestDelivery.objects.filter(user=user).order_by("-id")[:5],
    })
    return context


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request):
    """Everyone may open the page (it says who the digest is for); only an
    executive may change anything, and only their own choice."""
    if request.method == "GET":
        return render(request, "strategy/digest_settings.html", _settings_context(request))
    if not digest.is_digest_recipient(request.user):
        raise PermissionDenied(_("The weekly reputation digest is for executives."))
    form = DigestPreferenceForm(request.POST)
    outcome = submit(form, lambda d: digest.digest_preference_save(
        actor=request.user, weekday=d["weekday"], hour=d["hour"], enabled=d["enabled"]))
    if not outcome.ok:
        return render_invalid(request, "strategy/digest_settings.html", _settings_context(request, form))
    pref = outcome.value
    if pref.enabled:
        messages.success(request, _("Saved: your digest comes every %(day)s at %(hour)s, your time.") % {
            "day": pref.get_weekday_display(), "hour": f"{pref.hour:02d}:00"})
    else:
        messages.success(request, _("Saved: you will not get the weekly digest."))
    return redirect("digest-settings")


def _require_admin(user) -> None:
    if not digest.can_manage_deliveries(user):
        raise PermissionDenied(_("Only admins see the digest deliveries."))


STATUS_FILTERS = {"", *DigestDelivery.Status.values}


@login_required
@require_http_methods(["GET"])
def deliveries(request):
    _require_admin(request.user)
    return _deliveries_page(request, [])


def _deliveries_page(request, errors: list[str]):
    """The list; ``errors`` (a refused action) make it a 400, as do bad filters."""
    errors, given = list(errors), len(errors)
    status = request.GET.get("status", "")
    before_raw = request.GET.get("before", "")
    if status not in STATUS_FILTERS:
        errors.append(_("status: choose one of %(choices)s.") % {
            "choices": ", ".join(DigestDelivery.Status.values)})
        status = ""
    before = None
    if before_raw:
        if before_raw.isdigit() and len(before_raw) < 19:
            before = int(before_raw)
        else:
            errors.append(_("before: give a delivery number."))
    limit = 50
    rows = [] if len(errors) > given else digest.recent_deliveries(status=status, before=before, limit=limit + 1)
    context = {
        "deliveries": rows[:limit], "older": rows[limit - 1].pk if len(rows) > limit else None,
        "status": status, "statuses": DigestDelivery.Status.choices, "errors": errors,
        "failed": DigestDelivery.Status.FAILED, "now": timezone.now(), "nav_current": "strategy:report",
    }
    return render(request, "strategy/digest_deliveries.html", context, status=400 if errors else 200)


@login_required
@require_POST
def delivery_retry(request, pk):
    _require_admin(request.user)
    delivery = get_object_or_404(DigestDelivery.objects.select_related("user"), pk=pk)
    try:
        digest.delivery_retry(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        return _deliveries_page(request, exc.messages)
    delivery.refresh_from_db()
    if delivery.status == DigestDelivery.Status.SENT:
        messages.success(request, _("The digest for %(user)s went out.") % {"user": delivery.user})
    elif delivery.status == DigestDelivery.Status.FAILED:
        messages.error(request, _("The digest for %(user)s failed again: %(error)s.") % {
            "user": delivery.user, "error": delivery.last_error})
    else:
        messages.success(request, _("The digest for %(user)s is on its way.") % {"user": delivery.user})
    return redirect("strategy:digest-deliveries")
