from django.core.management.base import BaseCommand, CommandError

from security.services import rotate_vault_keys
from security.vault import CredentialDecryptError


class Command(BaseCommand):
    help = ("Re-encrypts every credential under the newest key in SOCIALOPS_VAULT_KEYS. "
            "Afterwards the older keys can be removed from the setting.")

    def handle(self, *args, **options):
        try:
            count = rotate_vault_keys()
        except CredentialDecryptError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} credentials under the newest key."))
