"""Reads that depend on who asks."""

from django.db.models import Prefetch, Q, QuerySet

from .models import Department, Membership, User, Workgroup
from .roles import Role


def user_roles(user: User) -> set[str]:
    """The roles a person holds now (cached on the user for the request)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_socialops_roles", None)
    if cached is None:
        cached = set(user.memberships.active().values_list("role", flat=True))
        user._socialops_roles = cached
    return cached


def is_admin(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm("accounts.manage_people"))


def is_executive(user: User) -> bool:
    return Role.EXECUTIVE in user_roles(user)


def workgroups_visible_to(user: User) -> QuerySet[Workgroup]:
    """Admins see every workgroup; others see the ones they belong to or
    supervise."""
    qs = Workgroup.objects.all()
    if is_admin(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    member_of = Membership.objects.active().filter(user=user, workgroup__isnull=False).values("workgroup")
    return qs.filter(Q(pk__in=member_of) | Q(supervisors=user)).distinct()


def memberships_visible_to(user: User) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user", "department", "workgroup")
    if is_admin(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    visible = workgroups_visible_to(user).values("pk")
    return qs.filter(Q(user=user) | Q(workgroup__in=visible))


def departments_visible_to(user: User) -> QuerySet[Department]:
    """The organisation's departments are public to everyone signed in."""
    if not user.is_authenticated:
        return Department.objects.none()
    return Department.objects.select_related("lead")


def workgroup_members_by_department(workgroup: Workgroup) -> list[tuple[Department, list[Membership]]]:
    """Active members grouped by the department they represent."""
    rows = (
        Membership.objects.active()
        .filter(workgroup=workgroup)
        .select_related("user", "department")
        .order_by("department__name", "user__first_name", "user__username")
    )
    grouped: dict[int, tuple[Department, list[Membership]]] = {}
    for membership in rows:
        grouped.setdefault(membership.department_id, (membership.department, []))[1].append(membership)
    return list(grouped.values())


def workgroup_is_single_department(workgroup: Workgroup) -> bool:
    departments = (
        Membership.objects.active().filter(workgroup=workgroup).values("department").distinct().count()
    )
    return departments <= 1


def workgroups_with_supervisors(qs: QuerySet[Workgroup]) -> QuerySet[Workgroup]:
    return qs.prefetch_related(Prefetch("supervisors", queryset=User.objects.order_by("username")))


def dashboard_for(user: User) -> dict:
    memberships = list(
        Membership.objects.active()
        .filter(user=user)
        .select_related("department", "workgroup")
        .order_by("workgroup__name", "department__name")
    )
    departments = sorted({m.department for m in memberships}, key=lambda d: d.name)
    workgroups = sorted({m.workgroup for m in memberships if m.workgroup_id}, key=lambda w: w.name)
    roles = sorted({(m.role, m.get_role_display()) for m in memberships})
    supervised = list(workgroups_with_supervisors(user.supervised_workgroups.all()))
    return {
        "memberships": memberships,
        "departments": departments,
        "workgroups": workgroups,
        "roles": roles,
        "supervised": supervised,
    }
