"""The sandbox channel pages and the "posted it by hand" action (included by ``urls_pages``)."""

from django.urls import path

from . import views_replies_by_hand, views_sandbox

urlpatterns = [
    path("sandbox/", views_sandbox.sandbox_list, name="sandbox-list"),
    path("sandbox/<int:account_pk>/", views_sandbox.sandbox_channel, name="sandbox"),
    path("replies/<int:pk>/sent-by-hand/", views_replies_by_hand.reply_sent_by_hand, name="reply-sent-by-hand"),
]
