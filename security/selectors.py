"""Reads that depend on who asks."""

from collections import defaultdict

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from accounts.models import Membership, User
from accounts.roles import Role

from .models import (
    Capability,
    Credential,
    Custodian,
    PublishingGrant,
    RevealRequest,
    SocialAccount,
    TrainingRecord,
)
from .permissions import (
    active_department_ids,
    can_view_all_accounts,
    can_view_custody,
    current_grants_for,
    department_group_permissions,
    is_security_admin,
)


def accounts_visible_to(user) -> QuerySet[SocialAccount]:
    """Admins and executives see every account; others see the accounts they
    hold a right on, are custodian of, or that their departments use."""
    qs = SocialAccount.objects.all()
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if can_view_all_accounts(user):
        return qs
    granted = current_grants_for(user).values("account_id")
    custodian = Custodian.objects.filter(user=user, removed_at__isnull=True).values("account_id")
    return qs.filter(
        Q(pk__in=granted) | Q(pk__in=custodian) | Q(departments__in=active_department_ids(user))
    ).distinct()


def accounts_with_capability(user, capability: str) -> QuerySet[SocialAccount]:
    """Accounts on which ``user`` holds ``capability`` now: guardian's object
    permission and a current grant, both."""
    if not (user.is_authenticated and user.is_active):
        return SocialAccount.objects.none()
    capability = Capability(capability)
    permitted = get_objects_for_user(user, capability.perm, klass=SocialAccount, accept_global_perms=False,
                                     with_superuser=False).values("pk")
    via_departments = department_group_permissions(user, capability).values("content_object_id")
    granted = current_grants_for(user).filter(capability=capability).values("account_id")
    qs = SocialAccount.objects.filter(Q(pk__in=permitted) | Q(pk__in=via_departments), pk__in=granted)
    if capability in (Capability.PUBLISH, Capability.REPLY):
        qs = qs.filter(status=SocialAccount.Status.ACTIVE)
    return qs


def latest_training_by_user(user_ids) -> dict[int, TrainingRecord]:
    latest: dict[int, TrainingRecord] = {}
    for record in TrainingRecord.objects.filter(user_id__in=list(user_ids)).order_by("user_id", "-completed_on"):
        latest.setdefault(record.user_id, record)
    return latest


def has_valid_training(user) -> bool:
    return TrainingRecord.objects.filter(user=user, completed_on__gte=TrainingRecord.valid_since()).exists()


def rights_matrix(account: SocialAccount) -> dict:
    """The account's current grants as rows (people, then departments) by
    capability, with warnings an admin should see."""
    grants = list(
        PublishingGrant.objects.current().filter(account=account)
        .select_related("user", "department", "granted_by").order_by("granted_at")
    )
    rows: dict[tuple, dict] = {}
    for grant in grants:
        key = ("user", grant.user_id) if grant.user_id else ("department", grant.department_id)
        row = rows.setdefault(key, {"kind": key[0], "holder": grant.holder, "cells": {}})
        row["cells"][grant.capability] = grant
    ordered = sorted(rows.values(), key=lambda r: (r["kind"] != "user", str(r["holder"]).lower()))
    for row in ordered:
        row["cell_list"] = [(c, row["cells"].get(c.value)) for c in Capability]
    user_ids = [r["holder"].pk for r in ordered if r["kind"] == "user"]
    training = latest_training_by_user(user_ids)
    valid_since = TrainingRecord.valid_since()
    publishers = [g for g in grants if g.capability == Capability.PUBLISH]
    warnings = []
    if len(publishers) >= account.max_publishers:
        warnings.append(f"{len(publishers)} of {account.max_publishers} publishers")
    for grant in grants:
        if grant.capability in (Capability.PUBLISH, Capability.APPROVE) and grant.user_id:
            record = training.get(grant.user_id)
            if record is None or record.completed_on < valid_since:
                warnings.append(f"training expired for {grant.user} ({grant.get_capability_display()})")
    return {
        "rows": ordered,
        "capabilities": list(Capability),
        "publisher_count": len(publishers),
        "warnings": sorted(set(warnings)),
    }


def my_access(user) -> list[dict]:
    """Every right ``user`` holds now and where it came from."""
    grants = (
        current_grants_for(user).select_related("account", "department", "granted_by")
        .order_by("account__platform", "account__handle", "capability")
    )
    return [
        {
            "grant": grant,
            "account": grant.account,
            "capability": grant.get_capability_display(),
            "source": f"department {grant.department}" if grant.department_id else "granted to you",
        }
        for grant in grants
    ]


def custody_overview(user) -> list[dict]:
    """Per account: custodians, at-risk flags, credentials, open reveals."""
    if is_security_admin(user) or can_view_all_accounts(user):
        accounts = SocialAccount.objects.all()
    else:
        accounts = SocialAccount.objects.filter(
            custodians__user=user, custodians__removed_at__isnull=True
        ).distinct()
    accounts = accounts.prefetch_related(
        Prefetch("custodians", queryset=Custodian.objects.filter(removed_at__isnull=True).select_related("user"),
                 to_attr="current_custodians"),
        Prefetch("credentials", queryset=Credential.objects.select_related("account").order_by("kind"),
                 to_attr="credential_list"),
    )
    open_reveals = defaultdict(list)
    for reveal in RevealRequest.objects.filter(
        status__in=[RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED],
        credential__account__in=accounts,
    ).select_related("credential", "requester"):
        open_reveals[reveal.credential.account_id].append(reveal)
    executives = executive_ids()
    accounts = list(accounts)
    with_totp = users_with_totp({c.user_id for a in accounts for c in a.current_custodians})
    return [
        {
            "account": account,
            "custodians": account.current_custodians,
            "credentials": account.credential_list,
            "open_reveals": open_reveals[account.pk],
            "at_risk": custody_risks(account.current_custodians, executives, with_totp),
        }
        for account in accounts
    ]


def executive_ids() -> set[int]:
    return set(Membership.objects.active().filter(role=Role.EXECUTIVE).values_list("user_id", flat=True))


def users_with_totp(user_ids) -> set[int]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return set(TOTPDevice.objects.filter(user_id__in=list(user_ids), confirmed=True)
               .values_list("user_id", flat=True))


def custody_risks(custodians, executives: set[int] | None = None, with_totp: set[int] | None = None) -> list[str]:
    """Why an account's custody is at risk: fewer than two active custodians,
    no executive among them, custodians who cannot reveal (no TOTP)."""
    executives = executive_ids() if executives is None else executives
    risks = []
    active = [c for c in custodians if c.user.is_active]
    if len(active) < 2:
        risks.append(f"only {len(active)} custodian{'s' if len(active) != 1 else ''} (at least 2 needed)")
    if not any(c.user_id in executives for c in active):
        risks.append("no executive among the custodians")
    with_totp = users_with_totp(c.user_id for c in active) if with_totp is None else with_totp
    missing = sorted(str(c.user) for c in active if c.user_id not in with_totp)
    if missing:
        risks.append("no TOTP set up: " + ", ".join(missing))
    return risks


def accounts_at_risk() -> list[dict]:
    executives = executive_ids()
    result = []
    accounts = SocialAccount.objects.exclude(status=SocialAccount.Status.RETIRED).prefetch_related(
        Prefetch("custodians", queryset=Custodian.objects.filter(removed_at__isnull=True).select_related("user"),
                 to_attr="current_custodians"))
    accounts = list(accounts)
    with_totp = users_with_totp({c.user_id for a in accounts for c in a.current_custodians})
    for account in accounts:
        risks = custody_risks(account.current_custodians, executives, with_totp)
        if risks:
            result.append({"account": account, "risks": risks})
    return result


def reveal_requests_visible_to(user) -> QuerySet[RevealRequest]:
    qs = RevealRequest.objects.select_related("credential__account", "requester", "decided_by")
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if is_security_admin(user) or can_view_all_accounts(user):
        return qs
    custodian_of = Custodian.objects.filter(user=user, removed_at__isnull=True).values("account_id")
    return qs.filter(Q(requester=user) | Q(credential__account_id__in=custodian_of))


def reveal_requests_waiting_for(user) -> QuerySet[RevealRequest]:
    """Pending requests this user could approve (custodian, not requester)."""
    custodian_of = Custodian.objects.filter(user=user, removed_at__isnull=True).values("account_id")
    return (
        RevealRequest.objects.filter(status=RevealRequest.Status.PENDING, credential__account_id__in=custodian_of)
        .exclude(requester=user).select_related("credential__account", "requester")
    )


def credentials_visible_to(user) -> QuerySet[Credential]:
    qs = Credential.objects.select_related("account", "set_by")
    if is_security_admin(user) or can_view_all_accounts(user):
        return qs
    if not can_view_custody(user):
        return qs.none()
    custodian_of = Custodian.objects.filter(user=user, removed_at__isnull=True).values("account_id")
    return qs.filter(account_id__in=custodian_of)


def users_holding_capability(account: SocialAccount, capability: str) -> QuerySet[User]:
    grants = PublishingGrant.objects.current().filter(account=account, capability=capability)
    direct = grants.filter(user=OuterRef("pk"))
    via_department = grants.filter(
        department__memberships__user=OuterRef("pk"),
        department__memberships__ended_at__isnull=True,
        department__memberships__started_at__lte=timezone.now(),
    )
    return User.objects.filter(is_active=True).filter(Exists(direct) | Exists(via_department))
