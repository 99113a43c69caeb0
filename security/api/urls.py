from rest_framework.routers import SimpleRouter

from .views import (
    AuditEventViewSet,
    CredentialViewSet,
    PublishingGrantViewSet,
    RevealRequestViewSet,
    SocialAccountViewSet,
    TrainingRecordViewSet,
)

router = SimpleRouter()
router.register("social-accounts", SocialAccountViewSet, basename="social-account")
router.register("grants", PublishingGrantViewSet, basename="grant")
router.register("training-records", TrainingRecordViewSet, basename="training-record")
router.register("credentials", CredentialViewSet, basename="credential")
router.register("reveal-requests", RevealRequestViewSet, basename="reveal-request")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [*router.urls]
