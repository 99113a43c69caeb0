"""The personal iCalendar feed: the secret address's calendar, and the page where a person creates or revokes
their address (rules in ``strategy.calendar_feed``)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import calendar_feed


@require_GET
def feed_ics(request, token: str):
    """No sign-in: the secret in the address is the key. An unknown, revoked or offboarded one is a 404 (nothing
    says which)."""
    feed = calendar_feed.feed_for_token(token)
    if feed is None:
        raise Http404(_("No such calendar feed."))
    body = calendar_feed.build_ics(feed, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="socialops-posts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request):
    """Shows whether the person has a feed address; POST ``action=create`` makes a new one (shown on this
    response only: it is not stored anywhere it could be read back), ``action=revoke`` ends it."""
    new_url = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            _feed, token = calendar_feed.feed_create(actor=request.user)
            new_url = request.build_absolute_uri(f"/strategy/calendar/feed/{token}.ics")
        elif action == "revoke":
            calendar_feed.feed_revoke(actor=request.user)
        else:
            status = 400
    context = {"feed": calendar_feed.active_feed(request.user), "new_url": new_url,
               "bad_action": status == 400}
    return render(request, "strategy/calendar_feed.html", context, status=status)
