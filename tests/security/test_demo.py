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
