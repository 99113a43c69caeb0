from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = _("Strategy register")

    def ready(self):
        from django.db.models.signals import post_migrate

        from socialops import navigation

        from .permissions import can_read_register

        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="strategy-schedules")
        navigation.register(_("Calendar"), "strategy:calendar", order=15, visible=_uses_calendar)
        navigation.register(_("Strategy"), "strategy:register", order=20, visible=can_read_register)
        navigation.register(_("Reports"), "strategy:report", order=25, visible=can_read_register)
        from socialops import dashboard

        dashboard.register("reputation-report", "strategy/panel_report.html", order=5, context=_report_panel,
                           visible=_reads_reports_first)

        from accounts import demo_hooks

        from .demo import load_demo_strategy
        from .demo_posts import load_demo_posts

        for seeder in (load_demo_strategy, load_demo_posts):  # posts belong to the strategy's campaign
            if seeder not in demo_hooks.SEEDERS:
                demo_hooks.SEEDERS.append(seeder)


def _uses_calendar(user) -> bool:
    from .views_calendar import can_use_calendar

    return can_use_calendar(user)


def _reads_reports_first(user) -> bool:
    """Executives, admins and social media managers find the report on their home page."""
    from accounts.roles import Role
    from accounts.selectors import user_roles

    return bool(user_roles(user) & {Role.EXECUTIVE, Role.ADMIN, Role.SOCIAL_MEDIA_MANAGER})


def _report_panel(user) -> dict:
    from .reports import report_scopes_for

    scopes = report_scopes_for(user)
    return {"scope_label": scopes[0].label if scopes else ""}


def _ensure_schedules(sender, **kwargs):
    from .tasks import ensure_schedules

    ensure_schedules()
