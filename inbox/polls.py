"""What every polling endpoint of the inbox shares."""

from functools import wraps

from django.http import HttpResponse


def signed_in_poll(view):
    """Like ``login_required``, but a poll from a page whose session has
    ended gets a 401 instead of a redirect: HTMX would follow the redirect
    and swap the sign-in page into the bell, the list or the replies block.
    The person sees the sign-in page on their next click.

    A poll is not the person doing something: it must not keep an idle
    session alive (the idle timeout slides on activity, see
    ``socialops.middleware``), so a refresh it may have marked is not saved.
    A view that polls on the person's behalf (typing a reply) may mark the
    session modified again itself."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return HttpResponse(status=401, content="Sign in again.", content_type="text/plain; charset=utf-8")
        response = view(request, *args, **kwargs)
        if not getattr(request, "_poll_keeps_session", False):
            request.session.modified = False
        return response

    return wrapped
