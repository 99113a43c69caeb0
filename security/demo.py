"""Demo social accounts, rights, training, custodians and credentials.
Idempotent: loads nothing that is already there.

The demo's channels are sandbox channels (``SocialAccount.sandbox``):
replies and posts go to the portal's own sandbox platform, never online, and
their names say so. The rights let every department the demo routes
conversations to answer on the channels it gets them from: members with
``reply`` send, departments with ``draft`` write for a colleague's approval,
and a specialist approves sensitive answers on every channel."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User

from . import services
from .audit import audit_write
from .models import Custodian, PublishingGrant, SocialAccount, TrainingRecord

ACCOUNTS = [
    # platform, handle, display name, departments
    ("mastodon", "@brand@social.example", "Brand (Mastodon sandbox)", ["customer-service", "marketing", "pr"]),
    ("x", "@brand_care", "Brand Care (X sandbox)", ["customer-service", "sales"]),
    ("linkedin", "brand-careers", "Brand Careers (LinkedIn sandbox)", ["hr", "marketing"]),
]
# The names an earlier demo gave them: such a channel is the demo's own and becomes a sandbox.
EARLIER_NAMES = {"Brand (Mastodon)", "Brand Care (X)", "Brand Careers (LinkedIn)"}

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
    ("hana", "brand-careers", "reply"),
    ("sam", "brand-careers", "approve"),
]
DEPARTMENT_DRAFTS = [("marketing", "@brand@social.example"), ("sales", "@brand@social.example"),
                     ("customer-service", "@brand@social.example"), ("customer-service", "@brand_care"),
                     ("hr", "brand-careers"), ("legal", "brand-careers"),
                     # Billing questions, leads and praise are routed to these departments from both channels.
                     ("finance", "@brand@social.example"), ("finance", "@brand_care"), ("sales", "@brand_care"),
                     ("marketing", "@brand_care")]
CUSTODIANS = {"@brand@social.example": ["erik", "sofia"], "@brand_care": ["erik", "cora"],
              "brand-careers": ["hana"]}  # the last one is left at risk on purpose


def _make_sandbox(admin: User, account: SocialAccount, name: str) -> None:
    """The demo's channel becomes a sandbox channel, named so, on record."""
    before = {"sandbox": account.sandbox, "display_name": account.display_name}
    account.sandbox, account.display_name = True, name
    account.save(update_fields=["sandbox", "display_name"])
    audit_write(actor=admin, action="account.update", target_type="security.socialaccount", target_id=str(account.pk),
                target_repr=str(account), account_id=account.pk, before=before,
                after={"sandbox": True, "display_name": name})


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
        if not account.sandbox and account.display_name in EARLIER_NAMES | {name}:
            _make_sandbox(admin, account, name)
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
