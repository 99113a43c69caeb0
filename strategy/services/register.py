"""Brands, strategies, their owners and reviews."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Membership, User
from accounts.roles import Role
from accounts.selectors import user_roles
from accounts.services import notify
from security.models import SocialAccount

from .. import permissions as perms
from ..models import (
    Brand,
    Strategy,
    StrategyOwner,
    StrategyReview,
)
from ..selectors import MINIMUM_OWNER_DEPARTMENTS, counting_owners
from ._common import _audit, _locked, _not_retired, _reason, _save

STATUS_TRANSITIONS = {
    Strategy.Status.DRAFT: {Strategy.Status.ACTIVE, Strategy.Status.RETIRED},
    Strategy.Status.ACTIVE: {Strategy.Status.UNDER_REVIEW, Strategy.Status.RETIRED},
    Strategy.Status.UNDER_REVIEW: {Strategy.Status.ACTIVE, Strategy.Status.RETIRED, Strategy.Status.DRAFT},
    Strategy.Status.RETIRED: set(),
}


# --- brands -----------------------------------------------------------------------------

def _check_new_accounts(added) -> None:
    inactive = [str(a) for a in added if a.status != SocialAccount.Status.ACTIVE]
    if inactive:
        raise ValidationError({"accounts": _("Not an active channel: %(accounts)s.") % {
            "accounts": ", ".join(inactive)}})


def _check_new_managers(added) -> None:
    planners = set(User.objects.filter(
        pk__in=[m.pk for m in added], is_active=True,
        memberships__in=Membership.objects.active().filter(role=Role.SOCIAL_MEDIA_MANAGER),
    ).values_list("pk", flat=True))
    outside = [str(m) for m in added if m.pk not in planners]
    if outside:
        raise ValidationError({"managers": _("Not an active social media manager: %(people)s.") % {
            "people": ", ".join(outside)}})


@transaction.atomic
def brand_create(*, actor: User, name: str, slug: str, description: str = "", accounts=(), managers=()) -> Brand:
    """Admins and social media managers; a social media manager who creates
    a brand manages it."""
    perms.require(perms.can_create_strategy(actor), _("Social media managers and admins create brands."))
    accounts, managers = list(accounts), list(managers)
    _check_new_accounts(accounts)
    _check_new_managers(managers)
    brand = Brand(name=(name or "").strip(), slug=slug, description=description)
    try:
        with transaction.atomic():
            _save(brand, actor, "created", validate_unique=True)
    except IntegrityError:
        # Someone created the same name or slug between the check and this write.
        raise ValidationError({"name": _("A brand with this name or slug already exists.")}) from None
    brand.accounts.set(accounts)
    if Role.SOCIAL_MEDIA_MANAGER in user_roles(actor) and actor not in managers:
        managers.append(actor)
    brand.managers.set(managers)
    _audit(actor, "brand_created", brand, after={"name": brand.name, "accounts": [a.pk for a in accounts],
                                                 "managers": [m.pk for m in managers]})
    return brand


@transaction.atomic
def brand_update(*, actor: User, brand: Brand, reason: str, accounts=None, managers=None,
                 description: str | None = None) -> Brand:
    """Admins and the brand's managers change its accounts, managers and
    description, with a reason kept with the version. ``None`` leaves a
    field as it is. Accounts added must be active, managers added active
    social media managers; only an admin leaves a brand without managers."""
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    perms.require(perms.manages_brand(actor, brand), _("Only admins and the brand's managers change a brand."))
    reason = _reason(reason)
    current_accounts = list(brand.accounts.all())
    current_managers = list(brand.managers.all())
    before, after = {}, {}
    if accounts is not None:
        accounts = list(accounts)
        _check_new_accounts([a for a in accounts if a.pk not in {c.pk for c in current_accounts}])
        if {a.pk for a in accounts} != {c.pk for c in current_accounts}:
            before["accounts"] = sorted(str(a) for a in current_accounts)
            after["accounts"] = sorted(str(a) for a in accounts)
        else:
            accounts = None
    if managers is not None:
        managers = list(managers)
        _check_new_managers([m for m in managers if m.pk not in {c.pk for c in current_managers}])
        if not managers and current_managers and Role.ADMIN not in user_roles(actor):
            raise ValidationError({"managers": _("A brand keeps at least one manager; only an admin removes "
                                                 "the last one.")})
        if {m.pk for m in managers} != {c.pk for c in current_managers}:
            before["managers"] = sorted(str(m) for m in current_managers)
            after["managers"] = sorted(str(m) for m in managers)
        else:
            managers = None
    if description is not None and description != brand.description:
        before["description"], after["description"] = brand.description[:500], description[:500]
        brand.description = description
    if not after:
        return brand
    _save(brand, actor, reason)
    if accounts is not None:
        brand.accounts.set(accounts)
    if managers is not None:
        brand.managers.set(managers)
    _audit(actor, "brand_updated", brand, before=before, after={**after, "reason": reason})
    return brand


# --- strategies -------------------------------------------------------------------------

@transaction.atomic
def strategy_create(*, actor: User, brand: Brand, title: str, summary: str = "", accountable: User | None = None,
                    review_cadence_months: int = 3) -> Strategy:
    perms.require(perms.can_create_strategy(actor), _("Social media managers and admins start strategies."))
    if not perms.manages_brand(actor, brand):
        raise ValidationError({"brand": _("You do not manage %(brand)s: choose one of your brands.") % {
            "brand": brand}})
    accountable = accountable or actor
    if Role.SOCIAL_MEDIA_MANAGER not in user_roles(accountable) and Role.ADMIN not in user_roles(accountable):
        raise ValidationError({"accountable": _("The accountable person must be a social media manager.")})
    strategy = Strategy(brand=brand, title=(title or "").strip(), summary=summary, accountable=accountable,
                        review_cadence_months=review_cadence_months, created_by=actor,
                        next_review_on=timezone.localdate() + relativedelta(months=review_cadence_months))
    _save(strategy, actor, "created")
    _audit(actor, "created", strategy, after={"brand": brand.pk, "title": strategy.title,
                                              "accountable": accountable.pk})
    return strategy


@transaction.atomic
def strategy_update(*, actor: User, strategy: Strategy, reason: str, **changes) -> Strategy:
    """Title, summary, the accountable SMM, the review cadence."""
    strategy = _locked(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy),
                  _("Only the accountable social media manager and admins edit the strategy itself."))
    reason = _reason(reason)
    allowed = {"title", "summary", "accountable", "review_cadence_months", "next_review_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    _not_retired(strategy)
    before = {name: str(getattr(strategy, name)) for name in changes}
    for name, value in changes.items():
        setattr(strategy, name, value)
    if {"next_review_on", "review_cadence_months"} & set(changes):
        # A new review date: its reminders go out again when it falls due.
        strategy.review_due_reminded_on = strategy.review_overdue_reminded_on = None
    _save(strategy, actor, reason)
    _audit(actor, "updated", strategy, before=before,
           after={**{name: str(getattr(strategy, name)) for name in changes}, "reason": reason})
    return strategy


@transaction.atomic
def strategy_set_status(*, actor: User, strategy: Strategy, status: str, reason: str) -> Strategy:
    """Only the accountable SMM, admins and executives. Becoming active
    needs owners from at least two departments (the channel is not owned by
    marketing alone)."""
    strategy = _locked(strategy)
    perms.require(perms.can_change_status(actor, strategy),
                  _("Only the accountable social media manager, admins and executives change a strategy's status."))
    reason = _reason(reason)
    if status not in Strategy.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == strategy.status:
        return strategy
    if status not in STATUS_TRANSITIONS[strategy.status]:
        raise ValidationError({"status": _("A %(from)s strategy cannot become %(to)s.") % {
            "from": strategy.get_status_display().lower(), "to": Strategy.Status(status).label.lower()}})
    if status == Strategy.Status.ACTIVE:
        departments = sorted(counting_owners().filter(strategy=strategy)
                             .values_list("department__name", flat=True).distinct())
        if len(departments) < MINIMUM_OWNER_DEPARTMENTS:
            owned = ", ".join(departments) or _("no department")
            raise ValidationError({"status": _(
                "A strategy becomes active only when owners from at least two departments share it; "
                "it is owned by %(owned)s. Add an owner from another department first.") % {"owned": owned}})
    before = strategy.status
    strategy.status = status
    _save(strategy, actor, reason)
    _audit(actor, "status_changed", strategy, before={"status": before}, after={"status": status, "reason": reason})
    return strategy


# --- owners -----------------------------------------------------------------------------

@transaction.atomic
def owner_add(*, actor: User, strategy: Strategy, user: User, department: Department,
              responsibility: str = "") -> StrategyOwner:
    strategy = _locked(strategy)
    _not_retired(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    if not user.is_active:
        raise ValidationError({"user": _("%(user)s is not an active member.") % {"user": user}})
    if not Membership.objects.active().filter(user=user, department=department).exists():
        raise ValidationError({"department": _("%(user)s is not a member of %(department)s.") % {
            "user": user, "department": department}})
    if strategy.owners.filter(user=user, department=department, ended_at__isnull=True).exists():
        raise ValidationError({"user": _("%(user)s already owns parts of this strategy for %(department)s.") % {
            "user": user, "department": department}})
    owner = StrategyOwner(strategy=strategy, user=user, department=department, responsibility=responsibility)
    _save(owner, actor, "owner added")
    _audit(actor, "owner_added", strategy, after={"user": user.pk, "department": department.pk})
    return owner


@transaction.atomic
def owner_end(*, actor: User, owner: StrategyOwner, reason: str) -> StrategyOwner:
    # The strategy first, as an activation does: an owner cannot leave while it checks the departments.
    strategy = _locked(owner.strategy)
    _not_retired(strategy)
    owner = StrategyOwner.objects.select_for_update().get(pk=owner.pk)
    perms.require(perms.can_edit_strategy(actor, owner.strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    reason = _reason(reason)
    if owner.ended_at is None:
        owner.ended_at = timezone.now()
        _save(owner, actor, reason)
        _audit(actor, "owner_ended", owner.strategy, after={"user": owner.user_id, "reason": reason})
    return owner


# --- reviews -----------------------------------------------------------------------------

@transaction.atomic
def review_complete(*, actor: User, strategy: Strategy, changes: str) -> StrategyReview:
    """Records who reviewed and what changed, and sets the next review date
    from the cadence."""
    strategy = _locked(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy) or perms.can_change_status(actor, strategy),
                  _("The accountable social media manager, admins and executives complete reviews."))
    if not (changes or "").strip():
        raise ValidationError({"changes": _("Say what the review changed, or why nothing needed to.")})
    today = timezone.localdate()
    next_on = today + relativedelta(months=strategy.review_cadence_months)
    review = StrategyReview.objects.create(strategy=strategy, reviewed_by=actor, changes=changes.strip(),
                                           next_review_on=next_on)
    strategy.next_review_on = next_on
    strategy.review_due_reminded_on = strategy.review_overdue_reminded_on = None
    _save(strategy, actor, "reviewed")  # the new review date is a version too
    _audit(actor, "reviewed", strategy, after={"next_review_on": next_on.isoformat(), "changes": changes[:500]})
    return review


def send_review_reminders(*, today: date | None = None, due_within_days: int = 7) -> dict:
    """Reminds the accountable SMM and the owners, in the portal and by
    email, once when a review is due within ``due_within_days`` and once when
    it is overdue. Each reminder is claimed with a conditional update, so a
    duplicated run sends nothing twice."""
    from django.core.mail import send_mail

    today = today or timezone.localdate()
    sent = {"due": 0, "overdue": 0}
    live = Strategy.objects.filter(status__in=[Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW],
                                   next_review_on__isnull=False)
    batches = (
        ("overdue", live.filter(next_review_on__lt=today, review_overdue_reminded_on__isnull=True),
         "review_overdue_reminded_on"),
        ("due", live.filter(next_review_on__gte=today, next_review_on__lte=today + relativedelta(days=due_within_days),
                            review_due_reminded_on__isnull=True), "review_due_reminded_on"),
    )
    for kind, qs, flag in batches:
        for strategy in qs.select_related("accountable"):
            if not Strategy.objects.filter(pk=strategy.pk, **{f"{flag}__isnull": True}).update(**{flag: today}):
                continue
            people = {strategy.accountable, *(o.user for o in counting_owners().filter(strategy=strategy)
                                              .select_related("user"))}
            if kind == "overdue":
                text = _("The review of %(strategy)s was due on %(date)s.")
            else:
                text = _("The review of %(strategy)s is due on %(date)s.")
            text = text % {"strategy": strategy, "date": strategy.next_review_on.isoformat()}
            for person in people:
                if not person.is_active:
                    continue
                notify(recipient=person, kind=f"strategy.review_{kind}", text=text, url=f"/strategy/{strategy.pk}/",
                       level="alert" if kind == "overdue" else "info")
                if person.email:
                    send_mail(subject=text, message=text, from_email=None, recipient_list=[person.email],
                              fail_silently=True)
            sent[kind] += 1
    return sent
