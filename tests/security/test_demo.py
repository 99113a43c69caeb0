import pytest
from django.core.management import call_command

from security.audit import verify_chain
from security.models import Credential, Custodian, PublishingGrant, SocialAccount


@pytest.mark.django_db
def test_security_demo_is_idempotent_and_on_record():
    call_command("seed_demo", quiet_logins=True)
    counts = (SocialAccount.objects.count(), PublishingGrant.objects.count(), Custodian.objects.count(),
              Credential.objects.count())
    call_command("seed_demo", quiet_logins=True)
    assert counts == (SocialAccount.objects.count(), PublishingGrant.objects.count(), Custodian.objects.count(),
                      Credential.objects.count())
    assert counts[0] >= 3 and counts[1] > 10
    assert verify_chain().intact


@pytest.mark.django_db
def test_demo_channels_are_sandboxes_and_an_earlier_demos_channels_become_sandboxes_on_record():
    from security.models import AuditEvent

    call_command("seed_demo", quiet_logins=True)
    channels = SocialAccount.objects.filter(handle__in=["@brand@social.example", "@brand_care", "brand-careers"])
    assert {(c.sandbox, "sandbox" in c.display_name) for c in channels} == {(True, True)}
    # A database loaded by the demo before channels could be sandboxes: names from then, not sandboxes.
    SocialAccount.objects.filter(handle="@brand_care").update(sandbox=False, display_name="Brand Care (X)")
    SocialAccount.objects.filter(handle="brand-careers").update(sandbox=False, display_name="Careers, real")
    call_command("seed_demo", quiet_logins=True)
    care, careers = SocialAccount.objects.get(handle="@brand_care"), SocialAccount.objects.get(handle="brand-careers")
    assert care.sandbox and care.display_name == "Brand Care (X sandbox)"
    assert AuditEvent.objects.filter(action="account.update", target_id=str(care.pk),
                                     after__sandbox=True).exists()
    assert not careers.sandbox  # renamed since: someone's own channel now, left alone
    assert verify_chain().intact
