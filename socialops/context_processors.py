from . import navigation


def navigation_entries(request):
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    return {"nav_entries": navigation.entries_for(request.user), "nav_current": current}



def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": user.notifications.filter(read_at__isnull=True).count()}
