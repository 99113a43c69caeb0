from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security: rights, custody, audit")

    def ready(self):
        from accounts import twofactor
        from accounts.roles import Role, extend_role_permissions
        from socialops import navigation

        from . import signals  # noqa: F401
        from .permissions import second_factor_reason

        if second_factor_reason not in twofactor.REQUIREMENT_CHECKS:
            twofactor.REQUIREMENT_CHECKS.append(second_factor_reason)
        from .permissions import can_view_audit, can_view_custody, is_security_admin

        extend_role_permissions(Role.ADMIN, [
            "security.view_socialaccount", "security.add_socialaccount", "security.change_socialaccount",
            "security.add_trainingrecord", "security.view_trainingrecord", "security.view_auditevent",
            "security.view_publishinggrant", "security.add_publishinggrant", "security.change_publishinggrant",
        ])
        extend_role_permissions(Role.EXECUTIVE, [
            "security.view_socialaccount", "security.view_auditevent", "security.view_publishinggrant",
            "security.view_trainingrecord",
        ])
        from accounts import demo_hooks, hooks

        from .demo import load_demo_security

        if load_demo_security not in demo_hooks.SEEDERS:
            demo_hooks.SEEDERS.append(load_demo_security)

        if not any(a[1] == "security:offboard" for a in hooks.PERSON_ACTIONS):
            hooks.PERSON_ACTIONS.append((_("Offboard"), "security:offboard", "danger"))
        from socialops import dashboard

        from . import selectors

        # Each panel computes its rows once; its template shows nothing when there are none.
        dashboard.register("custody-at-risk", "security/panel_custody.html", order=80,
                           context=lambda user: {"at_risk": selectors.accounts_at_risk()},
                           visible=is_security_admin)
        dashboard.register("reveals-waiting", "security/panel_reveals.html", order=70,
                           context=lambda user: {"waiting": list(selectors.reveal_requests_waiting_for(user))},
                           visible=can_view_custody)
        from socialops import search

        search.register("channels", _("Channels"), order=20, search=_search_channels)
        navigation.register(_("Accounts & rights"), "security:account-list", order=50, visible=lambda u: True)
        navigation.register(_("My access"), "security:my-access", order=55, visible=lambda u: True)
        navigation.register(_("Custody"), "security:custody", order=60, visible=can_view_custody)
        navigation.register(_("Training"), "security:training", order=65, visible=is_security_admin)
        navigation.register(_("Audit"), "security:audit", order=70, visible=can_view_audit)
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="security-schedules")


def _ensure_schedules(sender, **kwargs):
    """The hourly audit checkpoint and the executives' weekly digest."""
    from .tasks import ensure_schedules

    ensure_schedules()


def _search_channels(user, query, limit):
    from django.db.models import Q
    from django.urls import reverse

    from socialops.search import Hit

    from .selectors import accounts_visible_to

    accounts = accounts_visible_to(user).filter(Q(handle__icontains=query) | Q(display_name__icontains=query))
    return [Hit(str(a), a.display_name, reverse("security:account-detail", args=[a.pk]))
            for a in accounts.order_by("handle")[:limit]]
