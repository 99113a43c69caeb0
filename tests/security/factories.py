import factory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import Platform, SocialAccount, TrainingRecord
from tests.accounts.factories import UserFactory


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    platform = Platform.MASTODON
    handle = factory.Sequence(lambda n: f"@brand{n}@example.social")
    display_name = factory.Sequence(lambda n: f"Brand {n}")
    owner_organisation = "Demo Organisation"


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    user = factory.SubFactory(UserFactory)
    recorded_by = factory.SubFactory(UserFactory)
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timezone.timedelta(days=30))


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(device.digits)
