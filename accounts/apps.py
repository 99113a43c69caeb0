from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Workgroup and people")

    def ready(self):
        from socialops import navigation

        from . import signals  # noqa: F401
        from .selectors import is_admin, workgroups_visible_to

        navigation.register(_("My work"), "dashboard", order=0, visible=lambda user: True)
        navigation.register(_("Workgroups"), "workgroup-list", order=80,
                            visible=lambda user: workgroups_visible_to(user).exists())
        navigation.register(_("Departments"), "department-list", order=85, visible=lambda user: True)
        navigation.register(_("People"), "people-list", order=90, visible=is_admin)
