from . import navigation


def navigation_entries(request):
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    return {"nav_entries": navigation.entries_for(request.user), "nav_current": current}

