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
        navigation.register(_("Strategy"), "strategy:register", order=20, visible=can_read_register)

        from accounts import demo_hooks

        from .demo import load_demo_strategy

        if load_demo_strategy not in demo_hooks.SEEDERS:
            demo_hooks.SEEDERS.append(load_demo_strategy)


def _ensure_schedules(sender, **kwargs):
    from .tasks import ensure_schedules

    ensure_schedules()
