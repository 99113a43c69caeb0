"""Demo social accounts, rights, training, custodians and credentials.
Idempotent: loads nothing that is already there."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User

from . import services
from .models import Custodian, PublishingGrant, SocialAccount, TrainingRecord

ACCOUNTS = [
    # platform, handle, display name, departments
    ("mastodon", "@brand@social.example", "Brand (Mastodon)", ["customer-service", "marketing", "pr"]),
    ("x", "@brand_care", "Brand Care (X)", ["customer-service", "sales"]),
    ("linkedin", "brand-careers", "Brand Careers (LinkedIn)", ["hr", "marketing"]),
]

TRAINED = ["sofia", "carlos", "cora", "sam", "lina", "hana", "paula"]

# username, account handle, capability
GRANTS = [
    ("sofia", "@brand@social.example", "manage"),
    ("sofia", "@brand@social.example", "approve"),
    ("carlos", "@brand@social.example", "publish"),
    ("cora", "@brand@social.example", "publish"),
    ("cora", "@brand@social.example", "reply"),
    ("rita", "@brand@social.example", "reply"),
    ("sam", "@brand@social.example", "approve"),
    ("sam", "@brand@social.example", "reply"),
    ("lina", "@brand@social.example", "reply"),
    ("cora", "@brand_care", "reply"),
    ("cora", "@brand_care", "publish"),
    ("rita", "@brand_care", "reply"),
    ("sam", "@brand_care", "approve"),
    ("hana", "brand-careers", "publish"),
    ("hana", "brand-careers", "approve"),
]
DEPARTMENT_DRAFTS = [("marketing", "@brand@social.example"), ("sales", "@brand@social.example"),
                     ("customer-service", "@brand@social.example"), ("customer-service", "@brand_care"),
                     ("hr", "brand-careers"), ("legal", "brand-careers")]
CUSTODIANS = {"@brand@social.example": ["erik", "sofia"], "@brand_care": ["erik", "cora"],
              "brand-careers": ["hana"]}  # the last one is left at risk on purpose


@transaction.atomic
def load_demo_security(stdout=None) -> None:
    admin = User.objects.get(username="ada")
    people = {u.username: u for u in User.objects.all()}
    departments = {d.slug: d for d in Department.objects.all()}
    accounts = {}
    for platform, handle, name, dept_slugs in ACCOUNTS:
        account = SocialAccount.objects.filter(platform=platform, handle=handle).first()
        if account is None:
            account = services.account_create(actor=admin, platform=platform, handle=handle, display_name=name,
                                              departments=[departments[s] for s in dept_slugs])
        accounts[handle] = account
    for username in TRAINED:
        if not TrainingRecord.objects.filter(user=people[username]).exists():
            services.training_record_create(actor=admin, user=people[username],
                                            completed_on=timezone.localdate() - timedelta(days=60))
    for username, handle, capability in GRANTS:
        if not PublishingGrant.objects.current().filter(user=people[username], account=accounts[handle],
                                                        capability=capability).exists():
            # Seeding runs from the shell (seed_demo, make run), which already trumps the portal's re-authentication.
            services.grant_create(actor=admin, account=accounts[handle], capability=capability,
                                  user=people[username], reason="demo: initial rights",
                                  reauthenticated_at=timezone.now())
    for slug, handle in DEPARTMENT_DRAFTS:
        if not PublishingGrant.objects.current().filter(department=departments[slug], account=accounts[handle],
                                                        capability="draft").exists():
            services.grant_create(actor=admin, account=accounts[handle], capability="draft",
                                  department=departments[slug], reason="demo: the department drafts")
    for handle, usernames in CUSTODIANS.items():
        for username in usernames:
            if not Custodian.objects.filter(account=accounts[handle], user=people[username],
                                            removed_at__isnull=True).exists():
                services.custodian_add(actor=admin, account=accounts[handle], user=people[username])
    for handle, account in accounts.items():
        if not account.credentials.exists():
            services.credential_set(actor=admin, account=account, kind="password",
                                    secret=f"demo-only-{handle.strip('@')}-password")
    if stdout is not None:
        stdout.write("Demo social accounts, rights, training and custody loaded.")
