from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = _("Shared inbox")

    def ready(self):
        from django.db.models.signals import post_migrate

        from accounts.roles import Role, extend_role_permissions
        from security.hooks import OFFBOARDING_HOOKS
        from socialops import navigation

        from .connectors import load_builtin
        from .services import offboarding_release_work

        load_builtin()
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="inbox-schedules")

        everyone_sees = ["inbox.view_all_conversations"]
        for role in (Role.ADMIN, Role.EXECUTIVE, Role.SOCIAL_MEDIA_MANAGER, Role.COMMUNITY_MANAGER):
            extend_role_permissions(role, everyone_sees)
        for role in (Role.ADMIN, Role.SOCIAL_MEDIA_MANAGER):
            extend_role_permissions(role, ["inbox.view_routingrule", "inbox.add_routingrule",
                                           "inbox.change_routingrule", "inbox.delete_routingrule"])
        extend_role_permissions(Role.ADMIN, ["inbox.change_slapolicy", "inbox.change_servicewindow",
                                             "inbox.change_triagesettings"])
        from accounts import demo_hooks

        from .demo import load_demo_inbox

        if load_demo_inbox not in demo_hooks.SEEDERS:
            demo_hooks.SEEDERS.append(load_demo_inbox)
        if offboarding_release_work not in OFFBOARDING_HOOKS:
            OFFBOARDING_HOOKS.append(offboarding_release_work)
        from socialops import dashboard, search

        search.register("conversations", _("Conversations"), order=10, search=_search_conversations)

        from .permissions import can_manage_routing
        from .selectors import my_work

        dashboard.register("inbox-my-work", "inbox/panel_my_work.html", order=10, context=my_work)

        navigation.register(_("Inbox"), "inbox:list", order=10, visible=lambda user: True)
        navigation.register(_("Coverage"), "inbox:coverage", order=15, visible=lambda user: True)
        navigation.register(_("Routing"), "inbox:routing-rules", order=16, visible=can_manage_routing)
        navigation.register(_("Sandbox channels"), "inbox:sandbox-list", order=17, visible=_sandboxes_exist)


def _sandboxes_exist(user) -> bool:
    """The demo's (or a training setup's) sandbox channels: the page lists those the person may see."""
    from security.models import SocialAccount

    return SocialAccount.objects.filter(sandbox=True).exists()


def _ensure_schedules(sender, **kwargs):
    from .tasks import ensure_schedules

    ensure_schedules()


def _search_conversations(user, query, limit):
    from django.db.models import Q
    from django.urls import reverse

    from socialops.search import Hit

    from .selectors import conversations_visible_to

    found = (conversations_visible_to(user)
             .filter(Q(author__handle__icontains=query) | Q(author__display_name__icontains=query)
                     | Q(subject__icontains=query) | Q(last_message_preview__icontains=query))
             .select_related("author", "account").order_by("-last_message_at")[:limit])
    return [Hit(f"{c.author} · {c.get_status_display()}", c.last_message_preview[:120] or c.subject[:120],
                reverse("inbox:conversation", args=[c.pk])) for c in found]
