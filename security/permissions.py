"""Who may do what on a social account.

A capability holds when *both* the django-guardian object permission exists
(for the user directly or through their department's group) *and* a
current PublishingGrant backs it. Guardian gives the fast object-permission
machinery; the grant record carries expiry, so an expired grant stops
working at its expiry without any job having to run."""

from django.db.models import Q
from rest_framework import permissions

from accounts.models import Membership
from accounts.selectors import is_admin, is_executive

from .models import Capability, Custodian, PublishingGrant, SocialAccount

SECURITY_ADMIN_PERM = "security.change_socialaccount"
VIEW_ALL_ACCOUNTS_PERM = "security.view_socialaccount"
VIEW_AUDIT_PERM = "security.view_auditevent"


def is_security_admin(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(SECURITY_ADMIN_PERM)


def can_view_all_accounts(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(VIEW_ALL_ACCOUNTS_PERM)


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(VIEW_AUDIT_PERM)


def active_department_ids(user) -> list[int]:
    cached = getattr(user, "_socialops_department_ids", None)
    if cached is None:
        cached = list(Membership.objects.active().filter(user=user).values_list("department_id", flat=True))
        user._socialops_department_ids = cached
    return cached


def current_grants_for(user):
    """Grants that apply to ``user`` now: their own, and their departments'."""
    return PublishingGrant.objects.current().filter(
        Q(user=user) | Q(department_id__in=active_department_ids(user))
    )


def department_group_permissions(user, capability: "Capability"):
    """Guardian permissions held by the groups of the departments ``user``
    is an active member of now (not the groups they happen to sit in, so a
    membership that starts or ends later takes effect without any sync)."""
    from .models import SocialAccountGroupObjectPermission

    return SocialAccountGroupObjectPermission.objects.filter(
        permission__content_type__app_label="security", permission__codename=capability.codename,
        group__department__in=active_department_ids(user))


def _guardian_allows(user, capability: "Capability", account: SocialAccount) -> bool:
    if user.has_perm(capability.perm, account):
        return True
    return department_group_permissions(user, capability).filter(content_object=account).exists()


def has_capability(user, capability: str, account: SocialAccount) -> bool:
    """Cached on the user object, which lives for one request: a revoked
    right stops working on the very next request."""
    if not (user.is_authenticated and user.is_active):
        return False
    capability = Capability(capability)
    if capability in (Capability.PUBLISH, Capability.REPLY) and account.status != SocialAccount.Status.ACTIVE:
        return False
    cache = user.__dict__.setdefault("_socialops_capabilities", {})
    key = (capability.value, account.pk)
    if key not in cache:
        cache[key] = _guardian_allows(user, capability, account) and current_grants_for(user).filter(
            account=account, capability=capability).exists()
    return cache[key]


def capabilities_held(users, accounts, capabilities) -> set[tuple[int, int, str]]:
    """``has_capability`` for many people and accounts at once: the
    ``(user pk, account pk, capability)`` triples that hold now, read in at most five
    queries whatever the number of people, accounts and capabilities. Same
    two locks as the door above (guardian's object permission, for the person,
    a group they sit in or a department they are an active member of now; and
    a current grant, theirs or their department's), same rule for publish and
    reply on an account that is not active. For services working on batches
    (the inbox's round robin); a single question still goes to the door."""
    users = [u for u in users if u.is_authenticated and u.is_active]
    capabilities = {Capability(c) for c in capabilities}
    accounts = list(accounts)
    if not (users and accounts and capabilities):
        return set()
    from .models import SocialAccountGroupObjectPermission, SocialAccountUserObjectPermission

    user_ids, account_ids = {u.pk for u in users}, [a.pk for a in accounts]
    codenames = {c.codename: c.value for c in capabilities}
    departments: dict[int, set[int]] = {}  # user -> departments they are an active member of now
    for user_id, department_id in Membership.objects.active().filter(user_id__in=user_ids).values_list(
            "user_id", "department_id"):
        departments.setdefault(user_id, set()).add(department_id)
    all_departments = set().union(*departments.values()) if departments else set()

    # Lock one: guardian's object permission.
    allowed: set[tuple[int, int, str]] = set()
    for user_id, account_id, codename in SocialAccountUserObjectPermission.objects.filter(
            user_id__in=user_ids, content_object_id__in=account_ids, permission__content_type__app_label="security",
            permission__codename__in=list(codenames)).values_list("user_id", "content_object_id",
                                                                  "permission__codename"):
        allowed.add((user_id, account_id, codenames[codename]))
    group_perms = SocialAccountGroupObjectPermission.objects.filter(
        content_object_id__in=account_ids, permission__content_type__app_label="security",
        permission__codename__in=list(codenames))
    by_department: dict[int, set[tuple[int, str]]] = {}
    for department_id, account_id, codename in group_perms.filter(
            group__department__in=all_departments).values_list("group__department", "content_object_id",
                                                               "permission__codename"):
        by_department.setdefault(department_id, set()).add((account_id, codenames[codename]))
    for user_id, account_id, codename in group_perms.filter(group__user__in=user_ids).values_list(
            "group__user", "content_object_id", "permission__codename"):
        allowed.add((user_id, account_id, codenames[codename]))
    for user_id, held in departments.items():
        for department_id in held:
            allowed.update((user_id, account_id, cap) for account_id, cap in by_department.get(department_id, ()))

    # Lock two: a current grant.
    granted: set[tuple[int, int, str]] = set()
    grant_rows = PublishingGrant.objects.current().filter(
        Q(user_id__in=user_ids) | Q(department_id__in=all_departments), account_id__in=account_ids,
        capability__in=[c.value for c in capabilities]).values_list("user_id", "department_id", "account_id",
                                                                    "capability")
    department_grants: dict[int, set[tuple[int, str]]] = {}
    for user_id, department_id, account_id, capability in grant_rows:
        if user_id:
            if user_id in user_ids:
                granted.add((user_id, account_id, capability))
        else:
            department_grants.setdefault(department_id, set()).add((account_id, capability))
    for user_id, held in departments.items():
        for department_id in held:
            granted.update((user_id, account_id, cap) for account_id, cap in department_grants.get(department_id, ()))

    inactive = {a.pk for a in accounts if a.status != SocialAccount.Status.ACTIVE}
    active_only = {Capability.PUBLISH.value, Capability.REPLY.value}
    superusers = {u.pk for u in users if u.is_superuser}  # guardian lets them through; the grant still counts
    return {
        (user_id, account_id, cap) for user_id, account_id, cap in granted
        if (user_id in superusers or (user_id, account_id, cap) in allowed)
        and not (cap in active_only and account_id in inactive)
    }


def can_draft(user, account) -> bool:
    return has_capability(user, Capability.DRAFT, account)


def can_reply(user, account) -> bool:
    return has_capability(user, Capability.REPLY, account)


def can_publish(user, account) -> bool:
    return has_capability(user, Capability.PUBLISH, account)


def can_approve(user, account) -> bool:
    return has_capability(user, Capability.APPROVE, account)


def can_manage_rights(user, account) -> bool:
    """Admins grant on every account; `manage` holders on theirs."""
    return is_security_admin(user) or has_capability(user, Capability.MANAGE, account)


def is_custodian(user, account) -> bool:
    return Custodian.objects.filter(account=account, user=user, removed_at__isnull=True).exists()


def can_view_custody(user, account=None) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if is_security_admin(user) or is_executive(user):
        return True
    if account is None:
        return Custodian.objects.filter(user=user, removed_at__isnull=True).exists()
    return is_custodian(user, account)


def can_manage_custody(user, account) -> bool:
    return is_security_admin(user)


def can_set_credential(user, account) -> bool:
    return is_security_admin(user) or is_custodian(user, account)


def can_break_glass(user) -> bool:
    return user.is_authenticated and user.is_active and is_executive(user)


def can_offboard(user) -> bool:
    return is_admin(user)


class CanViewAuditEvents(permissions.BasePermission):
    def has_permission(self, request, view):
        return can_view_audit(request.user)


def second_factor_reason(user) -> str:
    """Custodians and holders of publish, approve or manage must sign in with
    a second factor (registered with accounts.twofactor)."""
    from django.utils.translation import gettext as _

    if Custodian.objects.filter(user=user, removed_at__isnull=True).exists():
        return _("you are a custodian of a social account's credentials")
    strong = [Capability.PUBLISH, Capability.APPROVE, Capability.MANAGE]
    if current_grants_for(user).filter(capability__in=strong, user=user).exists():
        return _("you hold publish, approve or manage rights on a social account")
    return ""
