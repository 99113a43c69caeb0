from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = _("Shared inbox")

    def ready(self):
        from accounts.roles import Role, extend_role_permissions
        from security.hooks import OFFBOARDING_HOOKS
        from socialops import navigation

        from .services import offboarding_release_work

        everyone_sees = ["inbox.view_all_conversations"]
        for role in (Role.ADMIN, Role.EXECUTIVE, Role.SOCIAL_MEDIA_MANAGER, Role.COMMUNITY_MANAGER):
            extend_role_permissions(role, everyone_sees)
        for role in (Role.ADMIN, Role.SOCIAL_MEDIA_MANAGER):
            extend_role_permissions(role, ["inbox.view_routingrule", "inbox.add_routingrule",
                                           "inbox.change_routingrule", "inbox.delete_routingrule"])
        extend_role_permissions(Role.ADMIN, ["inbox.change_slapolicy", "inbox.change_servicewindow",
                                             "inbox.change_triagesettings"])
        if offboarding_release_work not in OFFBOARDING_HOOKS:
            OFFBOARDING_HOOKS.append(offboarding_release_work)
        navigation.register(_("Inbox"), "inbox:list", order=10, visible=lambda user: True)
