"""The roles x capabilities matrix, computed from the code.

Nothing here is a hand-written table. ``compute_matrix`` builds a small
organisation inside a transaction that it rolls back: one person per role
of ``accounts.roles.Role``, a Django superuser without any role, and
department representatives who each hold one thing more on one social
account (a ``draft``, ``reply``, ``publish``, ``approve`` or ``manage`` grant
made through ``grant_create``, membership of a department that holds
``draft``, custody through ``custodian_add``). Then it asks the permission
functions the pages, the API and the services ask, and attempts each
sensitive service call (a grant, a reveal request, a reveal approval) inside
a savepoint, recording whether it went through or was refused with
``PermissionDenied`` / ``ValidationError``.

``render_block`` turns the result into the Markdown kept in
``docs/SECURITY.md`` between ``MATRIX_START`` and ``MATRIX_END``; the
``security_matrix`` command prints it (``--write`` rewrites the block), and
``tests/security/test_security_doc.py`` fails when the document no longer
says what the code does."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import permissions as account_permissions
from accounts import selectors as account_selectors
from accounts import twofactor
from accounts.models import Department, Membership, User, Workgroup
from accounts.roles import Role, sync_role_groups
from accounts.services import sync_department_groups

from . import permissions as perms
from .models import Capability, Credential, Platform, RevealRequest, SocialAccount

MATRIX_START = "<!-- matrix:start -->"
MATRIX_END = "<!-- matrix:end -->"
YES, NO = "✓", "—"
DOC_PATH = Path(settings.BASE_DIR) / "docs" / "SECURITY.md"
REGENERATE_HINT = "python manage.py security_matrix --write"


class _RollbackError(Exception):
    """Raised to leave a transaction or savepoint without keeping anything."""


# --- what the matrix holds ----------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str          # the table header: short
    description: str    # the legend: what holding it means
    source: str         # the function or service that decides it
    probe: Callable     # (world, user) -> (allowed, reason)


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    columns: tuple[Column, ...]


@dataclass
class Row:
    key: str
    label: str
    cells: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass
class Matrix:
    sections: tuple[Section, ...]
    rows: list[Row]

    @property
    def columns(self) -> list[Column]:
        return [column for section in self.sections for column in section.columns]

    def row(self, key: str) -> Row:
        return next(row for row in self.rows if row.key == key)

    def holds(self, row_key: str, column_key: str) -> bool:
        return self.row(row_key).cells[column_key]

    def rows_holding(self, column_key: str) -> set[str]:
        return {row.key for row in self.rows if row.cells[column_key]}


# --- the organisation probed ------------------------------------------------------

@dataclass
class _World:
    """The people and objects the probes need; built and thrown away by
    ``compute_matrix``."""

    tag: str
    admin: User
    account: SocialAccount
    credential: Credential
    pending_reveal: RevealRequest
    colleague: User              # a trained person in the probed people's workgroup
    colleague_department: Department
    stranger: User               # a trained person in another workgroup
    stranger_department: Department
    people: dict[str, User] = field(default_factory=dict)


def _fresh(user: User) -> User:
    """The person as the next request loads them: no role, permission or
    second-factor answer cached on the object."""
    return User.objects.get(pk=user.pk)


def _reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return "; ".join(str(m) for m in messages) if messages else (str(exc) or type(exc).__name__)


def _attempt(action: Callable[[], object]) -> tuple[bool, str]:
    """Runs ``action`` in a savepoint that is always rolled back: True when
    it went through, False with the refusal's text when the service said no."""
    try:
        with transaction.atomic():
            action()
            raise _RollbackError
    except _RollbackError:
        return True, "went through"
    except (PermissionDenied, ValidationError) as exc:
        return False, _reason(exc)


def _check(function: Callable[..., bool], *args) -> Callable:
    def probe(world: _World, user: User) -> tuple[bool, str]:
        allowed = bool(function(user, *args))
        return allowed, f"{function.__module__}.{function.__name__} -> {allowed}"
    return probe


def _on_account(function: Callable[..., bool]) -> Callable:
    def probe(world: _World, user: User) -> tuple[bool, str]:
        allowed = bool(function(user, world.account))
        return allowed, f"{function.__module__}.{function.__name__}(account) -> {allowed}"
    return probe


def _second_factor_required(world: _World, user: User) -> tuple[bool, str]:
    reason = twofactor.requirement_reason(user)
    return bool(reason), reason or "optional"


def _ask_reveal(world: _World, user: User) -> tuple[bool, str]:
    from . import services

    return _attempt(lambda: services.reveal_request_create(
        actor=user, credential=world.credential, reason="matrix probe: may this person ask?"))


def _approve_reveal(world: _World, user: User) -> tuple[bool, str]:
    from . import services

    return _attempt(lambda: services.reveal_request_decide(
        actor=user, request=world.pending_reveal, approve=True, note="matrix probe",
        reauthenticated_at=timezone.now()))


def _grant(capability: Capability, *, to: str) -> Callable:
    """Attempts ``grant_create`` on the probed account with a fresh
    re-authentication, to a trained holder: ``colleague`` (a person in the
    actor's workgroup), ``colleague_department``, ``stranger`` (a person in
    another workgroup) or ``stranger_department``."""

    def probe(world: _World, user: User) -> tuple[bool, str]:
        from . import services

        holder = getattr(world, to)
        target = {"department": holder} if isinstance(holder, Department) else {"user": holder}
        return _attempt(lambda: services.grant_create(
            actor=user, account=world.account, capability=capability, reason="matrix probe",
            reauthenticated_at=timezone.now(), **target))
    return probe


ORGANISATION = Section(
    "Across the organisation",
    "What a person may do wherever they are, by role.",
    (
        Column("admin", "Admin", "treated as an admin: ends other people's sessions, sends them reset links, "
               "asks for or approves (as the second admin) a second-factor reset",
               "accounts.selectors.is_admin", _check(account_selectors.is_admin)),
        Column("manage_people", "Manage people", "people, departments, workgroups and memberships",
               "accounts.permissions.can_manage_people", _check(account_permissions.can_manage_people)),
        Column("security_admin", "Security admin", "adds and changes social accounts, records training, "
               "grants on every account", "security.permissions.is_security_admin",
               _check(perms.is_security_admin)),
        Column("executive", "Executive", "supervises workgroups; receives the weekly security digest",
               "accounts.selectors.is_executive", _check(account_selectors.is_executive)),
        Column("all_accounts", "See all accounts", "sees every social account, not only those they hold rights on",
               "security.permissions.can_view_all_accounts", _check(perms.can_view_all_accounts)),
        Column("audit", "Read audit log", "the audit pages and `/api/audit-events/`",
               "security.permissions.can_view_audit", _check(perms.can_view_audit)),
        Column("offboard", "Offboard", "ends someone's access at once (with re-authentication)",
               "security.permissions.can_offboard", _check(perms.can_offboard)),
        Column("break_glass", "Break the glass", "reveals a credential alone in an emergency (password, "
               "authenticator code, re-authentication; every custodian and admin is alerted)",
               "security.permissions.can_break_glass", _check(perms.can_break_glass)),
        Column("second_factor", "2nd factor required", "must sign in with password and authenticator code "
               "(everyone else may opt in)", "accounts.twofactor.requirement_reason",
               _second_factor_required),
    ),
)

ACCOUNT = Section(
    "On one social account",
    "What a person may do on a social account they were given nothing on, or the one thing their row names.",
    (
        Column("draft", "Draft", "drafts posts and replies", "security.permissions.can_draft",
               _on_account(perms.can_draft)),
        Column("reply", "Reply", "sends replies", "security.permissions.can_reply", _on_account(perms.can_reply)),
        Column("publish", "Publish", "publishes posts", "security.permissions.can_publish",
               _on_account(perms.can_publish)),
        Column("approve", "Approve", "approves other people's drafts", "security.permissions.can_approve",
               _on_account(perms.can_approve)),
        Column("manage_rights", "Grant & revoke", "opens the account's rights to grant and revoke (what they "
               "may grant is the next table)", "security.permissions.can_manage_rights",
               _on_account(perms.can_manage_rights)),
        Column("view_custody", "See custody", "sees the account's custodians and credentials (never a secret)",
               "security.permissions.can_view_custody", _on_account(perms.can_view_custody)),
        Column("manage_custody", "Appoint custodians", "appoints and removes custodians",
               "security.permissions.can_manage_custody", _on_account(perms.can_manage_custody)),
        Column("set_credential", "Set a credential", "stores or rotates a secret in the vault",
               "security.permissions.can_set_credential", _on_account(perms.can_set_credential)),
        Column("ask_reveal", "Ask to reveal", "asks for a secret to be revealed (a custodian must approve)",
               "security.services.reveal_request_create", _ask_reveal),
        Column("approve_reveal", "Approve a reveal", "approves someone else's reveal request (with "
               "re-authentication)", "security.services.reveal_request_decide", _approve_reveal),
    ),
)

GRANTS = Section(
    "May grant on that account",
    "Each cell is a real `security.services.grant_create` call on the account, with a re-authentication "
    "from a moment ago, to a trained person who holds nothing yet, inside a savepoint that is rolled back: "
    "✓ when it went through, — when it was refused.",
    (
        Column("grant_draft", "draft", "`draft` to a person in their own workgroups",
               "security.services.grant_create", _grant(Capability.DRAFT, to="colleague")),
        Column("grant_reply", "reply", "`reply` to a person in their own workgroups",
               "security.services.grant_create", _grant(Capability.REPLY, to="colleague")),
        Column("grant_publish", "publish", "`publish` to a person in their own workgroups",
               "security.services.grant_create", _grant(Capability.PUBLISH, to="colleague")),
        Column("grant_approve", "approve", "`approve` to a person in their own workgroups",
               "security.services.grant_create", _grant(Capability.APPROVE, to="colleague")),
        Column("grant_manage", "manage", "`manage` to a person in their own workgroups",
               "security.services.grant_create", _grant(Capability.MANAGE, to="colleague")),
        Column("grant_department", "draft → department", "`draft` to a whole department represented in their "
               "own workgroups", "security.services.grant_create",
               _grant(Capability.DRAFT, to="colleague_department")),
        Column("grant_outside_person", "draft → person elsewhere", "`draft` to a person outside their "
               "workgroups", "security.services.grant_create", _grant(Capability.DRAFT, to="stranger")),
        Column("grant_outside_department", "draft → department elsewhere", "`draft` to a department not "
               "represented in their workgroups", "security.services.grant_create",
               _grant(Capability.DRAFT, to="stranger_department")),
    ),
)

SECTIONS = (ORGANISATION, ACCOUNT, GRANTS)

# Rows: (key, label, how the person is made). Rights-holders are department
# representatives, the least-privileged role, so each row shows what its one
# addition brings.
ROLE_ROWS = [(role.value, str(role.label)) for role in Role]
EXTRA_ROWS = [
    ("superuser", "Django superuser without a role"),
    *[(f"holds_{capability.value}", f"Department representative holding `{capability.value}`")
      for capability in Capability],
    ("department_draft", "Department representative, department holding `draft`"),
    ("custodian", "Department representative, custodian"),
]


# --- building the world -----------------------------------------------------------

def _person(world_tag: str, key: str, *, role: str | None, workgroup: Workgroup | None,
            department: Department | None = None, **extra) -> User:
    user = User.objects.create(username=f"matrix-{key}-{world_tag}"[:150], first_name=key.replace("_", " "),
                               **extra)
    if role is not None:
        department = department or _department(world_tag, key)
        Membership.objects.create(user=user, department=department, role=role,
                                  workgroup=None if role in (Role.ADMIN, Role.EXECUTIVE) else workgroup,
                                  started_at=timezone.now() - timedelta(days=1))
        sync_department_groups(user)
    return user


def _department(world_tag: str, key: str) -> Department:
    slug = f"matrix-{key}-{world_tag}".replace("_", "-")[:50]
    return Department.objects.create(name=slug, slug=slug)


def _build_world() -> _World:
    from . import services

    tag = secrets.token_hex(4)
    # The role groups exactly as the code lists them, whatever this database last synced.
    sync_role_groups()
    here = Workgroup.objects.create(name=f"matrix-here-{tag}", slug=f"matrix-here-{tag}")
    elsewhere = Workgroup.objects.create(name=f"matrix-elsewhere-{tag}", slug=f"matrix-elsewhere-{tag}")

    people: dict[str, User] = {}
    for key, _label in ROLE_ROWS:
        people[key] = _person(tag, key, role=key, workgroup=here)
    for key, _label in EXTRA_ROWS:
        if key == "superuser":
            people[key] = _person(tag, key, role=None, workgroup=None, is_superuser=True, is_staff=True)
        else:
            people[key] = _person(tag, key, role=Role.DEPARTMENT_REPRESENTATIVE, workgroup=here)

    admin = _fresh(people[Role.ADMIN])
    colleague = _person(tag, "colleague", role=Role.DEPARTMENT_REPRESENTATIVE, workgroup=here)
    stranger = _person(tag, "stranger", role=Role.DEPARTMENT_REPRESENTATIVE, workgroup=elsewhere)
    requester = _person(tag, "requester", role=Role.EXECUTIVE, workgroup=None)
    trained_on = timezone.localdate() - timedelta(days=30)
    for person in (colleague, stranger, people["holds_publish"], people["holds_approve"]):
        services.training_record_create(actor=admin, user=person, completed_on=trained_on)

    account = services.account_create(actor=admin, platform=Platform.OTHER, handle=f"@matrix-probe-{tag}",
                                      max_publishers=3)
    now = timezone.now()
    for capability in Capability:
        services.grant_create(actor=admin, account=account, capability=capability, reason="matrix",
                              user=people[f"holds_{capability.value}"], reauthenticated_at=now)
    holding_department = people["department_draft"].memberships.get().department
    services.grant_create(actor=admin, account=account, capability=Capability.DRAFT, reason="matrix",
                          department=holding_department, reauthenticated_at=now)
    services.custodian_add(actor=admin, account=account, user=people["custodian"])
    credential = services.credential_set(actor=admin, account=account, kind=Credential.Kind.PASSWORD,
                                         secret=secrets.token_urlsafe(16))
    pending = services.reveal_request_create(actor=_fresh(requester), credential=credential,
                                             reason="matrix probe: a request someone else decides")
    return _World(tag=tag, admin=admin, account=account, credential=credential, pending_reveal=pending,
                  colleague=colleague, colleague_department=colleague.memberships.get().department,
                  stranger=stranger, stranger_department=stranger.memberships.get().department, people=people)


def compute_matrix() -> Matrix:
    """Builds the probe organisation, asks every column of every row, and
    rolls everything back: the database is left as it was."""
    rows: list[Row] = []
    try:
        with transaction.atomic():
            world = _build_world()
            for key, label in ROLE_ROWS + EXTRA_ROWS:
                row = Row(key, label)
                # Loaded once per row, as one request loads the person once: every probe
                # is rolled back, so nothing it caches on the person can change an answer.
                person = _fresh(world.people[key])
                for column in (c for section in SECTIONS for c in section.columns):
                    allowed, reason = column.probe(world, person)
                    row.cells[column.key], row.reasons[column.key] = allowed, reason
                rows.append(row)
            raise _RollbackError
    except _RollbackError:
        pass
    return Matrix(SECTIONS, rows)


# --- Markdown -------------------------------------------------------------------

def _table(section: Section, rows: list[Row]) -> list[str]:
    lines = [f"### {section.title}", "", section.intro, "",
             "| | " + " | ".join(c.label for c in section.columns) + " |",
             "|---|" + "|".join(":---:" for _c in section.columns) + "|"]
    for row in rows:
        lines.append(f"| {row.label} | " + " | ".join(YES if row.cells[c.key] else NO for c in section.columns)
                     + " |")
    lines += ["", *[f"- **{c.label}**: {c.description} (`{c.source}`)" for c in section.columns], ""]
    return lines


def render_block(matrix: Matrix) -> str:
    """The Markdown between the markers, markers included."""
    lines = [MATRIX_START,
             f"<!-- generated by `{REGENERATE_HINT}` from security/matrix.py: do not edit by hand -->", ""]
    for section in matrix.sections:
        lines += _table(section, matrix.rows)
    lines.append(MATRIX_END)
    return "\n".join(lines)


def extract_block(text: str) -> str | None:
    """The block in ``text`` from the start marker to the end marker, or None."""
    start, end = text.find(MATRIX_START), text.find(MATRIX_END)
    if start < 0 or end < start:
        return None
    return text[start:end + len(MATRIX_END)]


def replace_block(text: str, block: str) -> str:
    current = extract_block(text)
    if current is None:
        raise ValueError(f"No {MATRIX_START} ... {MATRIX_END} block to replace.")
    return text.replace(current, block, 1)
