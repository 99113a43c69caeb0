"""The "posted it by hand" form under a reply no connector can send."""

from django import template

from ..services.replies import reply_can_be_sent_by_hand

register = template.Library()


@register.filter
def can_post_by_hand(reply) -> bool:
    """True for a reply only a person can post (no connector for its channel): failed, or queued in vain."""
    return reply_can_be_sent_by_hand(reply)


@register.filter
def by_hand_form(reply):
    """The refused form hung on the reply by the view, or a fresh one."""
    from ..views_replies_by_hand import sent_by_hand_form

    return getattr(reply, "by_hand_form", None) or sent_by_hand_form(reply)
