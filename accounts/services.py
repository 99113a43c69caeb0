"""Every write to the workgroup's structure. Pages, API and commands call
these, so they behave the same: permission check, mutation, audit."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import audit
from .models import Department, Membership, Notification, User, Workgroup
from .permissions import require_manage_people
from .roles import ORGANISATION_WIDE_ROLES, Role


def _snapshot(obj, fields: list[str]) -> dict:
    values = {}
    for field in fields:
        value = getattr(obj, field)
        values[field] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _unique_slug(model, name: str, exclude_pk=None) -> str:
    base = slugify(name)[:45] or "item"
    slug, n = base, 2
    qs = model.objects.exclude(pk=exclude_pk) if exclude_pk else model.objects.all()
    while qs.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def department_create(*, actor: User, name: str, description: str = "", is_specialist_team: bool = False,
                      lead: User | None = None) -> Department:
    require_manage_people(actor)
    name = name.strip()
    if Department.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A department with this name already exists.")})
    department = Department.objects.create(
        name=name,
        slug=_unique_slug(Department, name),
        description=description,
        is_specialist_team=is_specialist_team,
        lead=lead,
    )
    audit.record(actor=actor, action="department.create", target=department,
                 after=_snapshot(department, ["name", "is_specialist_team", "lead_id"]))
    return department


@transaction.atomic
def department_update(*, actor: User, department: Department, **changes) -> Department:
    require_manage_people(actor)
    allowed = {"name", "description", "is_specialist_team", "lead"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if Department.objects.filter(name__iexact=changes["name"]).exclude(pk=department.pk).exists():
            raise ValidationError({"name": _("A department with this name already exists.")})
    fields = [f for f in changes if getattr(department, f) != changes[f]]
    if not fields:
        return department
    audit_fields = [f if f != "lead" else "lead_id" for f in fields]
    before = _snapshot(department, audit_fields)
    for field in fields:
        setattr(department, field, changes[field])
    department.save(update_fields=fields)
    audit.record(actor=actor, action="department.update", target=department,
                 before=before, after=_snapshot(department, audit_fields))
    return department


def _validate_supervisors(supervisors) -> None:
    active_executives = set(
        Membership.objects.active().filter(role=Role.EXECUTIVE).values_list("user_id", flat=True)
    )
    not_executives = [str(u) for u in supervisors if u.pk not in active_executives]
    if not_executives:
        raise ValidationError(
            {"supervisors": _("Supervisors must be executives: %(names)s is not.")
             % {"names": ", ".join(not_executives)}}
        )


@transaction.atomic
def workgroup_create(*, actor: User, name: str, description: str = "", supervisors=()) -> Workgroup:
    require_manage_people(actor)
    name = name.strip()
    if Workgroup.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A workgroup with this name already exists.")})
    supervisors = list(supervisors)
    _validate_supervisors(supervisors)
    workgroup = Workgroup.objects.create(name=name, slug=_unique_slug(Workgroup, name), description=description)
    workgroup.supervisors.set(supervisors)
    audit.record(actor=actor, action="workgroup.create", target=workgroup,
                 after={"name": name, "supervisors": sorted(u.pk for u in supervisors)})
    return workgroup


@transaction.atomic
def workgroup_update(*, actor: User, workgroup: Workgroup, name: str | None = None,
                     description: str | None = None, supervisors=None) -> Workgroup:
    require_manage_people(actor)
    before = {"name": workgroup.name, "description": workgroup.description,
              "supervisors": sorted(workgroup.supervisors.values_list("pk", flat=True))}
    fields = []
    if name is not None and name.strip() != workgroup.name:
        if Workgroup.objects.filter(name__iexact=name.strip()).exclude(pk=workgroup.pk).exists():
            raise ValidationError({"name": _("A workgroup with this name already exists.")})
        workgroup.name = name.strip()
        fields.append("name")
    if description is not None and description != workgroup.description:
        workgroup.description = description
        fields.append("description")
    if fields:
        workgroup.save(update_fields=fields)
    if supervisors is not None:
        supervisors = list(supervisors)
        _validate_supervisors(supervisors)
        workgroup.supervisors.set(supervisors)
    after = {"name": workgroup.name, "description": workgroup.description,
             "supervisors": sorted(workgroup.supervisors.values_list("pk", flat=True))}
    if after != before:
        audit.record(actor=actor, action="workgroup.update", target=workgroup, before=before, after=after)
    return workgroup


def department_group(department: Department):
    """The auth group mirroring a department's active members (created on
    first use). Rights granted to a department are granted to this group."""
    from django.contrib.auth.models import Group

    if department.group_id is None:
        department.group, _created = Group.objects.get_or_create(name=f"department:{department.slug}")
        department.save(update_fields=["group"])
    return department.group


def sync_department_groups(user: User) -> None:
    """Puts ``user`` in the groups of exactly the departments they are an
    active member of."""
    active = set(Membership.objects.active().filter(user=user).values_list("department_id", flat=True))
    wanted = [department_group(d) for d in Department.objects.filter(pk__in=active)] if user.is_active else []
    current = set(user.groups.filter(name__startswith="department:"))
    user.groups.remove(*(current - set(wanted)))
    user.groups.add(*(set(wanted) - current))


def notify(*, recipient: User, kind: str, text: str, url: str = "", level: str = "info") -> Notification:
    return Notification.objects.create(recipient=recipient, kind=kind, text=text[:500], url=url, level=level)


@transaction.atomic
def membership_create(*, actor: User, user: User, department: Department, role: str,
                      workgroup: Workgroup | None = None, started_at: datetime | None = None,
                      ended_at: datetime | None = None) -> Membership:
    """Gives ``user`` a role. Roles other than admin and executive need a
    workgroup. Holding the same open role twice is refused."""
    require_manage_people(actor)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if workgroup is None and role not in ORGANISATION_WIDE_ROLES:
        raise ValidationError({"workgroup": _("This role is held inside a workgroup: choose one.")})
    if not user.is_active:
        raise ValidationError({"user": _("This person has been deactivated.")})
    started_at = started_at or timezone.now()
    if ended_at is not None and ended_at <= started_at:
        raise ValidationError({"ended_at": _("The end must come after the start.")})
    open_same = Membership.objects.filter(
        user=user, department=department, workgroup=workgroup, role=role, ended_at__isnull=True
    )
    if open_same.exists():
        raise ValidationError({"role": _("%(user)s already holds this role here.") % {"user": user}})
    membership = Membership.objects.create(
        user=user, department=department, workgroup=workgroup, role=role,
        started_at=started_at, ended_at=ended_at,
    )
    sync_department_groups(user)
    audit.record(actor=actor, action="membership.create", target=membership,
                 after={"user": user.pk, "department": department.pk,
                        "workgroup": workgroup.pk if workgroup else None, "role": role,
                        "started_at": started_at.isoformat(),
                        "ended_at": ended_at.isoformat() if ended_at else None})
    return membership


@transaction.atomic
def membership_end(*, actor: User | None, membership: Membership, at: datetime | None = None,
                   check_permission: bool = True) -> Membership:
    """Ends a membership now (or at ``at``). Ending an ended one changes
    nothing. ``check_permission=False`` is for other services (offboarding)
    that have checked their own permission."""
    if check_permission:
        require_manage_people(actor)
    at = at or timezone.now()
    if membership.ended_at is not None and membership.ended_at <= at:
        return membership
    if at <= membership.started_at:
        at = membership.started_at + timedelta(microseconds=1)
    before = {"ended_at": membership.ended_at.isoformat() if membership.ended_at else None}
    membership.ended_at = at
    membership.save(update_fields=["ended_at"])
    sync_department_groups(membership.user)
    audit.record(actor=actor, action="membership.end", target=membership, before=before,
                 after={"ended_at": at.isoformat()})
    return membership


@transaction.atomic
def user_create(*, actor: User, username: str, email: str = "", first_name: str = "", last_name: str = "",
                time_zone: str = "") -> User:
    """Adds a person with no usable password: nobody (an admin included)
    chooses a password for someone else. They set their own through the
    one-time link ``accounts.signin.password_reset_send`` emails them."""
    require_manage_people(actor)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name,
                time_zone=time_zone)
    user.full_clean(exclude=["password"])
    user.set_unusable_password()
    user.save()
    audit.record(actor=actor, action="user.create", target=user,
                 after={"username": username, "email": email})
    return user


def user_unlock(*, actor: User, username: str) -> int:
    """Clears django-axes' lockout for a username; returns how many lockout
    records were removed."""
    from axes.utils import reset

    require_manage_people(actor)
    removed = reset(username=username)
    audit.record(actor=actor, action="user.unlock", target_type="accounts.user",
                 target_id=username, after={"lockouts_cleared": removed})
    return removed
