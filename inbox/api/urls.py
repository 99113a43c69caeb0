from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ConversationViewSet, MessageIngestView, ReplyViewSet, RoutingRuleViewSet, SavedReplyViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("replies", ReplyViewSet, basename="reply")
router.register("saved-replies", SavedReplyViewSet, basename="saved-reply")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")

urlpatterns = [
    path("accounts/<int:account_id>/messages/", MessageIngestView.as_view(), name="account-messages"),
    *router.urls,
]
