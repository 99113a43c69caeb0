"""The demo organisation: departments, two workgroups and people in every
role. Loaded by ``seed_demo``; every step is get-or-create, so loading it
twice changes nothing."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Department, Membership, User, Workgroup
from .roles import Role
from .services import sync_department_groups

DEMO_PASSWORD = "demo-pass-2026"

DEPARTMENTS = [
    ("customer-service", "Customer service", False),
    ("marketing", "Marketing", False),
    ("sales", "Sales", False),
    ("pr", "PR / Communications", False),
    ("hr", "HR", False),
    ("legal", "Legal", False),
    ("finance", "Finance", False),
    ("it", "IT", False),
    ("specialists", "Specialist team", True),
]

WORKGROUPS = [
    ("brand-care", "Brand & Care workgroup", "The main social media workgroup: service, sales, PR and marketing."),
    ("employer-brand", "Employer brand workgroup", "HR-led employer-brand channels with legal and marketing."),
]

# username, first, last, time zone, [(role, department slug, workgroup slug or None)]
PEOPLE = [
    ("ada", "Ada", "Admin", "Europe/Madrid", [(Role.ADMIN, "it", None)]),
    ("erik", "Erik", "Executive", "Europe/Copenhagen", [(Role.EXECUTIVE, "finance", None)]),
    ("elena", "Elena", "Executive", "Europe/Bucharest", [(Role.EXECUTIVE, "pr", None)]),
    ("sofia", "Sofia", "Manager", "Europe/Madrid", [(Role.SOCIAL_MEDIA_MANAGER, "marketing", "brand-care")]),
    ("carlos", "Carlos", "Community", "Europe/Madrid",
     [(Role.COMMUNITY_MANAGER, "marketing", "brand-care"),
      (Role.DEPARTMENT_REPRESENTATIVE, "marketing", "employer-brand")]),
    ("cora", "Cora", "Community", "Asia/Jakarta", [(Role.COMMUNITY_MANAGER, "customer-service", "brand-care")]),
    ("sam", "Sam", "Specialist", "Europe/London", [(Role.SPECIALIST, "specialists", "brand-care")]),
    ("lina", "Lina", "Specialist", "Europe/Bucharest", [(Role.SPECIALIST, "specialists", "brand-care")]),
    ("rita", "Rita", "Service", "Europe/Madrid",
     [(Role.DEPARTMENT_REPRESENTATIVE, "customer-service", "brand-care")]),
    ("sven", "Sven", "Sales", "Europe/Copenhagen", [(Role.DEPARTMENT_REPRESENTATIVE, "sales", "brand-care")]),
    ("paula", "Paula", "Press", "Europe/Madrid", [(Role.DEPARTMENT_REPRESENTATIVE, "pr", "brand-care")]),
    ("hana", "Hana", "People", "Asia/Jakarta",
     [(Role.DEPARTMENT_REPRESENTATIVE, "hr", "employer-brand"),
      (Role.COMMUNITY_MANAGER, "hr", "employer-brand")]),
    ("leo", "Leo", "Legal", "Europe/Madrid", [(Role.DEPARTMENT_REPRESENTATIVE, "legal", "employer-brand")]),
    ("fiona", "Fiona", "Finance", "Europe/London", [(Role.DEPARTMENT_REPRESENTATIVE, "finance", "brand-care")]),
    ("mark", "Mark", "Marketing", "Europe/Madrid", [(Role.DEPARTMENT_REPRESENTATIVE, "marketing", "brand-care")]),
    ("ivan", "Ivan", "IT", "Europe/Bucharest", [(Role.DEPARTMENT_REPRESENTATIVE, "it", "brand-care")]),
]

SUPERVISORS = {"brand-care": ["erik"], "employer-brand": ["elena", "erik"]}
LEADS = {"customer-service": "cora", "marketing": "sofia", "specialists": "sam", "hr": "hana"}


@transaction.atomic
def load_demo_organisation() -> dict[str, int]:
    created = {"departments": 0, "workgroups": 0, "users": 0, "memberships": 0}
    departments = {}
    for slug, name, specialist in DEPARTMENTS:
        departments[slug], was_created = Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "is_specialist_team": specialist})
        created["departments"] += was_created
    workgroups = {}
    for slug, name, description in WORKGROUPS:
        workgroups[slug], was_created = Workgroup.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description})
        created["workgroups"] += was_created
    users = {}
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=365)
    for username, first, last, tz, roles in PEOPLE:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "time_zone": tz,
                      "email": f"{username}@example.org"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            if username == "ada":
                user.is_staff = user.is_superuser = True
            user.save()
        created["users"] += was_created
        users[username] = user
        for role, department_slug, workgroup_slug in roles:
            _, was_created = Membership.objects.get_or_create(
                user=user, role=role, department=departments[department_slug],
                workgroup=workgroups[workgroup_slug] if workgroup_slug else None,
                ended_at=None, defaults={"started_at": start},
            )
            created["memberships"] += was_created
    for user in users.values():
        sync_department_groups(user)
    for slug, usernames in SUPERVISORS.items():
        workgroups[slug].supervisors.add(*(users[u] for u in usernames))
    for slug, username in LEADS.items():
        if departments[slug].lead_id is None:
            departments[slug].lead = users[username]
            departments[slug].save(update_fields=["lead"])
    return created


def demo_logins() -> list[tuple[str, str]]:
    return [(username, ", ".join(str(role.label) for role, _, _ in roles)) for username, _, _, _, roles in PEOPLE]


# One authenticator entry for every demo login that asks for a code. Public on
# purpose, like the demo password: never load the demo into a real deployment.
DEMO_TOTP_BASE32 = "SOCIALOPSDEMOKEYSOCIALOPSDEMOKEY"


def ensure_demo_second_factors() -> list[str]:
    """Gives each demo person who must sign in with a second factor (by role,
    custody or rights, so this runs after every seeder) the demo authenticator,
    so the demo works end to end with one entry in any TOTP app."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from . import twofactor

    key = base64.b32decode(DEMO_TOTP_BASE32).hex()
    enrolled = []
    for user in User.objects.filter(username__in=[p[0] for p in PEOPLE], is_active=True):
        if twofactor.requirement_reason(user) and not twofactor.has_confirmed_device(user):
            TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)
            enrolled.append(user.username)
    return enrolled
