"""Writes of the inbox's configuration: routing rules, service windows, SLA
policies, triage settings. Admins (and social media managers for routing)."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import validate_time_zone
from security.audit import audit_write

from .models import RoutingRule, SensitiveTerm, ServiceClosure, ServicePeriod, ServiceWindow, SlaPolicy, TriageSettings
from .permissions import can_manage_routing

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def can_configure_inbox(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm("inbox.change_servicewindow")


def _require_config(user):
    if not can_configure_inbox(user):
        raise PermissionDenied(_("Only admins change service hours, SLA targets and triage settings."))


def parse_periods(text: str, field: str) -> list[tuple[int, int]]:
    """'09:00-13:00, 14:00-18:00' -> [(540, 780), (840, 1080)]; '24:00' closes at midnight."""
    periods = []
    for chunk in [c for c in (text or "").split(",") if c.strip()]:
        match = _RANGE.match(chunk)
        if not match:
            raise ValidationError({field: _("Write periods like 09:00-13:00, 14:00-18:00.")})
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        opens, closes = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or opens >= 1440 or closes > 1440 or opens >= closes:
            raise ValidationError({field: _("%(chunk)s is not a valid period (opening before closing, within "
                                            "00:00-24:00).") % {"chunk": chunk.strip()}})
        periods.append((opens, closes))
    periods.sort()
    for (_a, b), (c, _d) in zip(periods, periods[1:], strict=False):
        if c < b:
            raise ValidationError({field: _("Periods overlap.")})
    return periods


def format_periods(periods) -> str:
    return ", ".join(f"{o // 60:02d}:{o % 60:02d}-{c // 60:02d}:{c % 60:02d}" for o, c in periods)


@transaction.atomic
def service_window_save(*, actor, account, time_zone: str, always_open: bool, holiday_country: str,
                        week: dict[str, str]) -> ServiceWindow:
    _require_config(actor)
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise ValidationError({"time_zone": _("%(tz)s is not a known IANA time zone.") % {"tz": time_zone}})
    country = (holiday_country or "").strip().upper()
    if country:
        import holidays

        if country not in holidays.list_supported_countries():
            raise ValidationError({"holiday_country": _("No public holiday calendar for %(c)s.") % {"c": country}})
    parsed = {day: parse_periods(week.get(day, ""), day) for day in WEEKDAYS}
    if not always_open and not any(parsed.values()):
        raise ValidationError({"monday": _("A channel that is not 24/7 needs at least one opening period.")})
    window, _created = ServiceWindow.objects.get_or_create(account=account)
    before = {"time_zone": window.time_zone, "always_open": window.always_open,
              "holiday_country": window.holiday_country,
              "week": {WEEKDAYS[p.weekday]: (p.opens_minute, p.closes_minute) for p in window.periods.all()}}
    window.time_zone, window.always_open, window.holiday_country = time_zone, always_open, country
    window.save()
    window.periods.all().delete()
    ServicePeriod.objects.bulk_create([ServicePeriod(window=window, weekday=WEEKDAYS.index(day), opens_minute=o,
                                                     closes_minute=c) for day, ps in parsed.items() for o, c in ps])
    audit_write(actor=actor, action="service_window.save", target_type="inbox.servicewindow",
                target_id=str(window.pk), target_repr=str(window), account_id=account.pk, before=before,
                after={"time_zone": time_zone, "always_open": always_open, "holiday_country": country,
                       "week": {d: format_periods(p) for d, p in parsed.items()}})
    return window


@transaction.atomic
def service_closure_add(*, actor, account, starts_at, ends_at, reason: str = "") -> ServiceClosure:
    _require_config(actor)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The closure must end after it starts.")})
    # A channel without hours is watched 24/7: a closure must not turn that into "never open".
    window, _created = ServiceWindow.objects.get_or_create(account=account, defaults={"always_open": True})
    closure = ServiceClosure.objects.create(window=window, starts_at=starts_at, ends_at=ends_at, reason=reason)
    audit_write(actor=actor, action="service_window.closure", target_type="inbox.serviceclosure",
                target_id=str(closure.pk), target_repr=str(closure), account_id=account.pk,
                after={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": reason})
    return closure


@transaction.atomic
def sla_policy_save(*, actor, intent: str, first_response_minutes: int, resolution_minutes: int,
                    account=None) -> SlaPolicy:
    _require_config(actor)
    if first_response_minutes < 1 or resolution_minutes < 1:
        raise ValidationError({"first_response_minutes": _("Targets are at least one minute.")})
    if resolution_minutes < first_response_minutes:
        raise ValidationError({"resolution_minutes": _("Resolution cannot come before the first response.")})
    policy, _created = SlaPolicy.objects.update_or_create(
        intent=intent, account=account,
        defaults={"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes})
    audit_write(actor=actor, action="sla_policy.save", target_type="inbox.slapolicy", target_id=str(policy.pk),
                target_repr=str(policy), account_id=account.pk if account else None,
                after={"intent": intent, "first_response_minutes": first_response_minutes,
                       "resolution_minutes": resolution_minutes})
    return policy


@transaction.atomic
def triage_settings_save(*, actor, influencer_followers: int, verified_is_influencer: bool,
                         default_department) -> TriageSettings:
    _require_config(actor)
    row = TriageSettings.current()
    before = {"influencer_followers": row.influencer_followers, "default_department": row.default_department_id}
    row.influencer_followers, row.verified_is_influencer = influencer_followers, verified_is_influencer
    row.default_department = default_department
    row.save()
    audit_write(actor=actor, action="triage_settings.save", target_type="inbox.triagesettings",
                target_id=str(row.pk), before=before,
                after={"influencer_followers": influencer_followers,
                       "default_department": default_department.pk if default_department else None})
    return row


@transaction.atomic
def sensitive_term_add(*, actor, language: str, category: str, term: str) -> SensitiveTerm:
    _require_config(actor)
    term = (term or "").strip().lower()
    if not term:
        raise ValidationError({"term": _("This field is required.")})
    if category not in SensitiveTerm.Category.values:
        raise ValidationError({"category": _("Unknown category.")})
    obj, _created = SensitiveTerm.objects.get_or_create(language=language.strip().lower()[:8] or "en", term=term,
                                                        defaults={"category": category})
    audit_write(actor=actor, action="sensitive_term.add", target_type="inbox.sensitiveterm", target_id=str(obj.pk),
                target_repr=term, after={"language": obj.language, "category": category})
    return obj


def _duplicate_rule_message() -> str:
    return _("A routing rule with this name already exists.")


def routing_rule_name_check(name: str, *, rule: RoutingRule | None = None) -> None:
    """Refuses a name another rule has, whatever its case (the database's
    unique constraint is case-insensitive too), on the ``name`` field."""
    others = RoutingRule.objects.filter(name__iexact=(name or "").strip())
    if rule is not None and rule.pk:
        others = others.exclude(pk=rule.pk)
    if name and others.exists():
        raise ValidationError({"name": _duplicate_rule_message()})


def saved_reply_insert(*, actor, department, title: str, body: str, language: str = ""):
    """Stores a saved reply whose title (any case) is new in its department;
    a duplicate is refused on the ``title`` field, also when two people save
    the same title at once (the unique constraint catches the second)."""
    from .models import SavedReply

    message = _("This department already has a saved reply with this title.")
    if SavedReply.objects.filter(department=department, title__iexact=title).exists():
        raise ValidationError({"title": message})
    try:
        with transaction.atomic():
            return SavedReply.objects.create(department=department, title=title, body=body, language=language,
                                             created_by=actor)
    except IntegrityError:
        raise ValidationError({"title": message}) from None


@transaction.atomic
def routing_rule_save(*, actor, rule: RoutingRule | None = None, **fields) -> RoutingRule:
    if not can_manage_routing(actor):
        raise PermissionDenied(_("Only admins and social media managers edit routing rules."))
    if rule is not None and rule.pk:
        # Work on the row as stored now, locked: the form may have set the new values on the instance it
        # was given, and a field nobody edited here must not be written back from an older copy.
        rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
        before = {f: getattr(rule, f"{f}_id" if f in ("department", "account") else f) for f in fields}
    else:
        rule = rule or RoutingRule(created_by=actor)
        before = {}
    for name, value in fields.items():
        setattr(rule, name, value)
    if "name" in fields:
        routing_rule_name_check(rule.name, rule=rule)
    rule.full_clean(exclude=["created_by"])
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        # Someone saved the same name between the check and this write (the unique constraint caught it).
        raise ValidationError({"name": _duplicate_rule_message()}) from None
    audit_write(actor=actor, action="routing_rule.save", target_type="inbox.routingrule", target_id=str(rule.pk),
                target_repr=rule.name, before=before,
                after={f: getattr(rule, f"{f}_id" if f in ("department", "account") else f) for f in fields})
    return rule


@transaction.atomic
def routing_rule_delete(*, actor, rule: RoutingRule) -> None:
    if not can_manage_routing(actor):
        raise PermissionDenied(_("Only admins and social media managers edit routing rules."))
    audit_write(actor=actor, action="routing_rule.delete", target_type="inbox.routingrule", target_id=str(rule.pk),
                target_repr=rule.name, before={"name": rule.name})
    rule.delete()


@transaction.atomic
def queue_auto_assign_set(*, actor, department, enabled: bool):
    """Round-robin auto-assignment of new conversations in a department's queue."""
    from .models import QueueSettings

    _require_config(actor)
    queue, _created = QueueSettings.objects.get_or_create(department=department)
    if queue.auto_assign != enabled:
        queue.auto_assign = enabled
        queue.save(update_fields=["auto_assign"])
        audit_write(actor=actor, action="queue.auto_assign", target_type="inbox.queuesettings",
                    target_id=str(queue.pk), target_repr=str(queue), before={"auto_assign": not enabled},
                    after={"auto_assign": enabled})
    return queue
