"""API token authentication: django-rest-knox's hashed tokens, refused for
people who are deactivated, and stamped with when they were last used (at
most once a minute, not a write per request)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from accounts import twofactor

LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    def validate_user(self, auth_token):
        user = auth_token.user
        if not user.is_active or user.offboarded_at is not None:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not auth_token.second_factor_verified and twofactor.second_factor_needed(user):
            # Made before its owner came to need a second factor (a new right, custody, a role).
            raise exceptions.AuthenticationFailed(_(
                "This token was created without a second factor, which your rights now require: create a new "
                "one on your Security page."))
        now = timezone.now()
        if auth_token.last_used_at is None or now - auth_token.last_used_at > LAST_USED_RESOLUTION:
            type(auth_token).objects.filter(pk=auth_token.pk).update(last_used_at=now)
            auth_token.last_used_at = now
        return user, auth_token
