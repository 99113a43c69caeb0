""""Posted it by hand": for a reply no connector can send, the agent posts
it on the platform themselves and pastes the link here; the reply is then
recorded as sent by them (``services.reply_mark_sent_by_hand``)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from socialops.forms import submit
from socialops.views import render_invalid

from . import services
from .forms import InboxFilterForm
from .views import _back, _conversation_context, _list_context, _visible, _visible_reply


class SentByHandForm(forms.Form):
    # Checked by the service (http or https only, at most 500 characters), so the API and the page agree.
    url = forms.CharField(
        label=_lazy("Posted it by hand? Paste the link"), required=False, strip=True,
        widget=forms.URLInput(attrs={"placeholder": "https://", "maxlength": 500, "autocomplete": "off",
                                     "inputmode": "url"}))


def sent_by_hand_form(reply, data=None) -> SentByHandForm:
    """The form under one reply; ids carry the reply's pk so several can share a page."""
    return SentByHandForm(data, auto_id=f"id_byhand{reply.pk}_%s")


@login_required
@require_POST
def reply_sent_by_hand(request, pk):
    reply = _visible_reply(request, pk)
    form = sent_by_hand_form(reply, request.POST)
    outcome = submit(form, lambda d: services.reply_mark_sent_by_hand(actor=request.user, reply=reply,
                                                                      url=d["url"]))
    if outcome.ok:
        if outcome.value.replayed:
            messages.info(request, _("This reply was already marked as posted by hand: nothing changed."))
        else:
            messages.success(request, _("Reply marked as posted by hand by you, with its link."))
        return _back(request, reply.conversation)
    conversation = _visible(request, reply.conversation_id)
    context = _list_context(request, InboxFilterForm({}, user=request.user), current=conversation)
    context.update(_conversation_context(request, conversation))
    for shown in context.get("replies", []):
        if shown.pk == reply.pk:
            shown.by_hand_form = form  # the errors next to the link field, under this reply
    context["by_hand_form"] = form  # and in the page's error summary even when the reply left the list
    return render_invalid(request, "inbox/conversation.html", context)
