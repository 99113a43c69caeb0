from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Workgroup and people")

    def ready(self):
        from socialops import navigation, search

        from . import signals  # noqa: F401
        from .api import schema  # noqa: F401  (the token scheme in the OpenAPI document)
        from .selectors import is_admin, workgroups_visible_to

        search.register("people", _("People"), order=30, search=_search_people)
        navigation.register(_("My work"), "dashboard", order=0, visible=lambda user: True)
        navigation.register(_("Workgroups"), "workgroup-list", order=80,
                            visible=lambda user: workgroups_visible_to(user).exists())
        navigation.register(_("Departments"), "department-list", order=85, visible=lambda user: True)
        navigation.register(_("People"), "people-list", order=90, visible=is_admin)


def _search_people(user, query, limit):
    from django.db.models import Q
    from django.urls import reverse

    from socialops.search import Hit

    from .models import Membership, User
    from .selectors import is_admin, workgroups_visible_to

    matches = Q(username__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)
    if is_admin(user):
        matches |= Q(email__icontains=query)  # others must not be able to test addresses
    people = User.objects.filter(matches)
    if not is_admin(user):
        colleagues = Membership.objects.active().filter(workgroup__in=workgroups_visible_to(user)).values("user_id")
        people = people.filter(pk__in=colleagues, is_active=True)
    hits = []
    for person in people.order_by("first_name", "username")[:limit]:
        url = reverse("person-detail", args=[person.pk]) if is_admin(user) else reverse("workgroup-list")
        hits.append(Hit(str(person), person.username, url))
    return hits
