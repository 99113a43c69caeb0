"""The sandbox channel pages: which channels are sandboxes, and each one's
public timeline as a customer would see it (nothing on them was posted
online). Only for people who may see the channel's conversations; a channel
that is not a sandbox, or one the viewer may not see, is a 404."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .selectors_sandbox import sandbox_accounts_visible_to, sandbox_timeline

PAGE_SIZE = 20


class SandboxPageForm(forms.Form):
    before = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput,
                             label=_("Older threads link"))

    def clean_before(self) -> tuple[datetime, int] | None:
        value = (self.cleaned_data.get("before") or "").strip()
        if not value:
            return None
        moment_text, _sep, pk_text = value.rpartition("|")
        try:
            moment = datetime.fromisoformat(moment_text)
            pk = int(pk_text)
        except ValueError:
            moment, pk = None, 0
        if moment is None or pk <= 0:
            raise ValidationError(_("This link to older threads is broken: start again from the newest threads."))
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment, pk


def cursor_text(before: tuple[datetime, int]) -> str:
    moment, pk = before
    return f"{moment.isoformat()}|{pk}"


@login_required
@require_GET
def sandbox_list(request):
    accounts = list(sandbox_accounts_visible_to(request.user).order_by("platform", "handle"))
    return render(request, "inbox/sandbox_list.html", {"accounts": accounts})


@login_required
@require_GET
def sandbox_channel(request, account_pk):
    account = get_object_or_404(sandbox_accounts_visible_to(request.user), pk=account_pk)
    form = SandboxPageForm(request.GET)
    context = {"account": account, "page_form": form, "threads": [], "posts": [], "older_query": "",
               "is_first_page": True}
    if not form.is_valid():
        return render(request, "inbox/sandbox.html", context, status=400)
    before = form.cleaned_data["before"]
    timeline = sandbox_timeline(request.user, account, before=before, page_size=PAGE_SIZE)
    context.update(threads=timeline.threads, posts=timeline.posts, is_first_page=before is None,
                   older_query=urlencode({"before": cursor_text(timeline.next_before)})
                   if timeline.next_before else "")
    return render(request, "inbox/sandbox.html", context)
