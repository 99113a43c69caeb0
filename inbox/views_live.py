"""Live parts of the inbox without a reload: the conversation list with its
queue counts, and the bell's count. Pages poll them with HTMX; an unchanged
state answers ``304 Not Modified`` to the ``If-None-Match`` the page sends,
so a poll costs the tag's queries and no rendering."""


from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils.cache import parse_etags, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET

from socialops.text import is_number

from .models import Conversation
from .polls import signed_in_poll
from .selectors import inbox_fingerprint, unread_notification_count
from .views import _filter_form, _list_context, _live_query


def _quoted(tag: str) -> str:
    return f'"{tag}"'


def _unchanged(request, etag: str) -> bool:
    sent = parse_etags(request.headers.get("If-None-Match", ""))
    return etag in sent or "*" in sent


def _conditional(request, response: HttpResponse, etag: str) -> HttpResponse:
    # A poll is not the person doing something: it must not keep an idle session alive (the idle timeout
    # slides on activity, socialops.middleware), so the once-a-minute refresh it may have marked is not saved.
    request.session.modified = False
    response["ETag"] = etag
    # The browser may keep it but must ask each time; it is one person's view.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie",))
    return response


def _current(request) -> Conversation | None:
    """The conversation on screen beside the list (only its id is used, to mark its row)."""
    value = request.GET.get("current", "")
    return Conversation(pk=int(value)) if is_number(value) else None


@signed_in_poll
@require_GET
def inbox_live(request):
    """The list pane's live fragment: the rows and the queue counts as
    out-of-band swaps, for the same filters, sort and page as the page."""
    form = _filter_form(request)
    form.data.pop("current", None)
    if not form.is_valid():
        # The page shows the errors and does not poll; a hand-made request learns what is wrong.
        return HttpResponse(status=400, content="; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
                            content_type="text/plain; charset=utf-8")
    current = _current(request)
    etag = _quoted(inbox_fingerprint(request.user, _live_query(form, current)))
    if _unchanged(request, etag):
        return _conditional(request, HttpResponseNotModified(), etag)
    context = _list_context(request, form, current=current, live_etag=etag.strip('"'))
    return _conditional(request, render(request, "inbox/_live.html", context), etag)


@signed_in_poll
@require_GET
def bell(request):
    """The bell's count of unread notifications, for every page's top bar."""
    count = unread_notification_count(request.user)
    etag = _quoted(f"bell-{request.user.pk}-{count}")
    if _unchanged(request, etag):
        return _conditional(request, HttpResponseNotModified(), etag)
    return _conditional(request, render(request, "inbox/_bell_count.html", {"unread_notifications": count}), etag)
