from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .roles import sync_role_groups


@receiver(post_migrate)
def keep_role_groups_in_step(sender, using="default", **kwargs):
    """Permissions are created per app after migrate; re-syncing after each
    app means every role's group ends with the permissions it lists."""
    sync_role_groups(using=using)
