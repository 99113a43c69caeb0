from django.urls import include, path

from . import views, views_bulk, views_live

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("live/", views_live.inbox_live, name="live"),  # the list's live fragment
    path("live/bell/", views_live.bell, name="live-bell"),  # the bell's live count
    path("bulk/", views_bulk.inbox_bulk, name="bulk"),  # the list's bulk bar
    path("saved-replies/", views.saved_replies, name="saved-replies"),
    path("c/<int:pk>/", views.conversation_detail, name="conversation"),
    path("c/<int:pk>/presence/", views.presence, name="presence"),
    path("c/<int:pk>/replies/live/", views.reply_states, name="reply-states"),  # the live reply status
    path("c/<int:pk>/claim/", views.conversation_claim, name="claim"),
    path("c/<int:pk>/assign/", views.conversation_assign, name="assign"),
    path("c/<int:pk>/status/", views.conversation_status, name="status"),
    path("c/<int:pk>/intent/", views.conversation_intent, name="intent"),
    path("c/<int:pk>/route/", views.conversation_route, name="route"),
    path("c/<int:pk>/notes/", views.note_add, name="note"),
    path("c/<int:pk>/tags/", views.tag_add, name="tag-add"),
    path("c/<int:pk>/tags/remove/", views.tag_remove, name="tag-remove"),
    path("c/<int:pk>/replies/", views.reply_submit, name="reply"),
    path("replies/<int:pk>/approve/", views.reply_approve, name="reply-approve"),
    path("replies/<int:pk>/return/", views.reply_return, name="reply-return"),
    path("replies/<int:pk>/retry/", views.reply_retry, name="reply-retry"),
    path("", include("inbox.urls_sandbox")),  # sandbox channel pages, "posted it by hand"
]
