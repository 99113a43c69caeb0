"""Who may do what in the strategy register.

- Everyone who holds an active role reads the register: it is the
  organisation's shared plan.
- Costs and budgets only for those who own a part of that strategy, social
  media managers, admins and executives.
- The strategy's status: its accountable social media manager, admins and
  executives.
- Parts (objectives, segments, channel plans, campaigns): their owner, the
  accountable social media manager and admins.
- A new strategy: admins, and social media managers for the brands they
  manage (``Brand.managers``)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.roles import Role
from accounts.selectors import user_roles

STEERING_ROLES = {Role.ADMIN, Role.EXECUTIVE}


def _roles(user) -> set[str]:
    if not (user and user.is_authenticated and user.is_active):
        return set()
    return user_roles(user)


def can_read_register(user) -> bool:
    return bool(_roles(user))


def can_create_strategy(user) -> bool:
    return bool(_roles(user) & {Role.ADMIN, Role.SOCIAL_MEDIA_MANAGER})


def manages_brand(user, brand) -> bool:
    """Admins manage every brand; a social media manager the brands they are named on."""
    roles = _roles(user)
    if Role.ADMIN in roles:
        return True
    return Role.SOCIAL_MEDIA_MANAGER in roles and brand.managers.filter(pk=user.pk).exists()


def can_change_status(user, strategy) -> bool:
    roles = _roles(user)
    return bool(roles & STEERING_ROLES) or (bool(roles) and strategy.accountable_id == user.pk)


def can_edit_strategy(user, strategy) -> bool:
    """Title, summary, owners, review cadence, decisions: the accountable SMM and admins."""
    roles = _roles(user)
    return Role.ADMIN in roles or (bool(roles) and strategy.accountable_id == user.pk)


def owns_part_of(user, strategy) -> bool:
    return strategy.owners.filter(user=user, ended_at__isnull=True).exists()


def can_edit_part(user, part) -> bool:
    """A part's owner (while their ownership lasts), the accountable SMM, admins."""
    if can_edit_strategy(user, part.strategy):
        return True
    owner = part.owner
    return bool(_roles(user)) and owner.user_id == user.pk and owner.ended_at is None


def can_add_part(user, strategy, owner) -> bool:
    """The owner adds parts they will own; the accountable SMM and admins add any."""
    if can_edit_strategy(user, strategy):
        return True
    return bool(_roles(user)) and owner.user_id == user.pk and owner.ended_at is None


def sees_all_money(user) -> bool:
    return bool(_roles(user) & {Role.ADMIN, Role.EXECUTIVE, Role.SOCIAL_MEDIA_MANAGER})


def can_see_money(user, strategy) -> bool:
    if sees_all_money(user):
        return True
    return bool(_roles(user)) and owns_part_of(user, strategy)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def require_read(user) -> None:
    require(can_read_register(user), _("The strategy register is open to members of the workgroup."))
