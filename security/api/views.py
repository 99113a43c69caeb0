"""The security API: thin viewsets over the security services and selectors.

Querysets are restricted to what the caller may see before anything else, so
an object outside them is a 404. Writes go through the services, whose
PermissionDenied is a 403 and whose ValidationError is a 400 naming the
field (socialops.api.exception_handler)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import twofactor
from socialops.dates import BoundedIsoDateTimeFilter
from socialops.throttling import UserRateThrottle

from .. import selectors, services
from ..models import AuditEvent, Capability, PublishingGrant, TrainingRecord
from ..permissions import CanViewAuditEvents, can_break_glass, can_view_custody, is_security_admin
from .serializers import (
    AuditEventSerializer,
    BreakGlassSerializer,
    CredentialSerializer,
    PublishingGrantCreateSerializer,
    PublishingGrantSerializer,
    ReasonSerializer,
    RevealDecisionSerializer,
    RevealRequestCreateSerializer,
    RevealRequestSerializer,
    RevealResultSerializer,
    SecondFactorSerializer,
    SocialAccountSerializer,
    SocialAccountUpdateSerializer,
    TrainingRecordSerializer,
)

VIEW_ALL_TRAINING_PERM = "security.view_trainingrecord"


class _ActionPermission(permissions.BasePermission):
    """Signed-in users read; the listed actions also need ``allowed(user)``.
    The services check again, per object: this only turns away early, with a
    403, people who could never perform the action on any object."""

    actions: frozenset[str] = frozenset()

    def allowed(self, user) -> bool:
        raise NotImplementedError

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return view.action not in self.actions or self.allowed(request.user)


class SecurityAdminWrites(_ActionPermission):
    actions = frozenset({"create", "update", "partial_update"})

    def allowed(self, user):
        return is_security_admin(user)


class RightsManagerWrites(_ActionPermission):
    actions = frozenset({"create"})

    def allowed(self, user):
        return is_security_admin(user) or selectors.accounts_with_capability(user, Capability.MANAGE).exists()


class CustodyWrites(_ActionPermission):
    actions = frozenset({"create"})

    def allowed(self, user):
        # Admins, executives and custodians: the people reveal_request_create accepts.
        return can_view_custody(user)


class BreakGlassOnly(_ActionPermission):
    actions = frozenset({"break_glass"})

    def allowed(self, user):
        return can_break_glass(user)


class SecretRevealThrottle(UserRateThrottle):
    """Bounds password and authenticator guesses on the endpoints that hand
    out a secret. Override with REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["reveal"]."""

    scope = "reveal"
    default_rate = "10/min"

    def get_rate(self):
        return self.THROTTLE_RATES.get(self.scope) or self.default_rate


def _secret_response(secret: str, visible_until) -> Response:
    response = Response(RevealResultSerializer({"secret": secret, "visible_until": visible_until}).data)
    # Nothing between the server and the person may keep a copy.
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


# --- social accounts ---------------------------------------------------------


@extend_schema_view(
    create=extend_schema(description="Admins only. A new account is always active."),
    partial_update=extend_schema(description="Admins only. Platform and handle cannot be changed."),
)
class SocialAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Social accounts the caller can see: admins and executives see all,
    others those they hold a right on, keep custody of, or their department uses."""

    permission_classes = [SecurityAdminWrites]
    filterset_fields = ["platform", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return SocialAccountUpdateSerializer
        return SocialAccountSerializer

    def get_queryset(self):
        return selectors.accounts_visible_to(self.request.user).prefetch_related("departments").order_by("-id")

    def perform_create(self, serializer):
        serializer.instance = services.account_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.account_update(actor=self.request.user, account=serializer.instance,
                                                      **serializer.validated_data)


# --- publishing rights -----------------------------------------------------------


class PublishingGrantFilter(filters.FilterSet):
    current = filters.BooleanFilter(method="filter_current", label="Not revoked and not expired")

    class Meta:
        model = PublishingGrant
        fields = ["account", "capability", "user", "department"]

    def filter_current(self, queryset, name, value):
        current = PublishingGrant.objects.current().values("pk")
        return queryset.filter(pk__in=current) if value else queryset.exclude(pk__in=current)


class PublishingGrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Grants on the accounts the caller can see, current and past."""

    serializer_class = PublishingGrantSerializer
    permission_classes = [RightsManagerWrites]
    filterset_class = PublishingGrantFilter

    def get_queryset(self):
        visible = selectors.accounts_visible_to(self.request.user).values("pk")
        return PublishingGrant.objects.filter(account_id__in=visible).order_by("-id")

    @extend_schema(
        request=PublishingGrantCreateSerializer,
        responses={201: PublishingGrantSerializer},
        description="Admins grant every right; holders of `manage` on the account grant `draft` and `reply` only, "
                    "to people and departments of their own workgroups. An account the caller cannot see is a 400 "
                    "on `account`. Policy refusals (a right the caller may not grant, a holder outside their "
                    "workgroups, self-grant, training, publisher seats, duplicates) are a 400 naming the field. "
                    "Granting `publish`, `approve` or `manage` needs a re-authentication within the last 5 minutes, "
                    "else a 403 with `\"code\": \"reauth_required\"`.",
    )
    def create(self, request, *args, **kwargs):
        serializer = PublishingGrantCreateSerializer(
            data=request.data, accounts=selectors.accounts_visible_to(request.user),
            context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        grant = services.grant_create(actor=request.user, reauthenticated_at=twofactor.reauthenticated_at(request),
                                      **serializer.validated_data)
        return Response(PublishingGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=PublishingGrantSerializer,
                   description="Revokes the grant; it stops working on the very next request.")
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        grant = self.get_object()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_revoke(actor=request.user, grant=grant, reason=serializer.validated_data["reason"])
        return Response(PublishingGrantSerializer(grant).data)


# --- training ---------------------------------------------------------------------


@extend_schema_view(create=extend_schema(description="Admins only."))
class TrainingRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    """Admins and executives see every record; others their own."""

    serializer_class = TrainingRecordSerializer
    permission_classes = [SecurityAdminWrites]
    filterset_fields = ["user"]

    def get_queryset(self):
        qs = TrainingRecord.objects.order_by("-id")
        user = self.request.user
        if not user.is_authenticated:
            return qs.none()
        if user.has_perm(VIEW_ALL_TRAINING_PERM):
            return qs
        return qs.filter(user=user)

    def perform_create(self, serializer):
        serializer.instance = services.training_record_create(actor=self.request.user, **serializer.validated_data)


# --- credentials and reveals ---------------------------------------------------


class CredentialViewSet(viewsets.ReadOnlyModelViewSet):
    """Credentials' metadata for admins, executives and the accounts'
    custodians. Never the secret: that takes a reveal."""

    serializer_class = CredentialSerializer
    permission_classes = [BreakGlassOnly]
    filterset_fields = ["account", "kind"]

    def get_queryset(self):
        return selectors.credentials_visible_to(self.request.user).order_by("-id")

    @extend_schema(
        request=BreakGlassSerializer,
        responses={200: RevealResultSerializer,
                   403: OpenApiResponse(description="Only executives break the glass, after a re-authentication "
                                                    "within the last 5 minutes (else `code` is `reauth_required`).")},
        description="An executive reveals alone in an emergency, with password and authenticator code. Every "
                    "custodian and admin is alerted; the credential becomes due for rotation. The secret appears "
                    "in this response only.",
    )
    @action(detail=True, methods=["post"], url_path="break-glass",
            throttle_classes=[UserRateThrottle, SecretRevealThrottle])
    def break_glass(self, request, pk=None):
        credential = self.get_object()
        serializer = BreakGlassSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret, visible_until, _request = services.break_glass(
            actor=request.user, credential=credential, reauthenticated_at=twofactor.reauthenticated_at(request),
            **serializer.validated_data)
        return _secret_response(secret, visible_until)


class RevealRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reveal requests: the caller's own, and those on accounts they keep
    custody of (admins and executives: all)."""

    serializer_class = RevealRequestSerializer
    permission_classes = [CustodyWrites]
    filterset_fields = ["status", "credential", "requester"]

    def get_queryset(self):
        return selectors.reveal_requests_visible_to(self.request.user).order_by("-id")

    @extend_schema(
        request=RevealRequestCreateSerializer,
        responses={201: RevealRequestSerializer},
        description="Custodians of the account, admins and executives. A credential the caller cannot see is a "
                    "400 on `credential`.",
    )
    def create(self, request, *args, **kwargs):
        serializer = RevealRequestCreateSerializer(
            data=request.data, credentials=selectors.credentials_visible_to(request.user),
            context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        reveal = services.reveal_request_create(actor=request.user, **serializer.validated_data)
        return Response(RevealRequestSerializer(reveal).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, approve: bool):
        reveal = self.get_object()
        serializer = RevealDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reveal = services.reveal_request_decide(actor=request.user, request=reveal, approve=approve,
                                                note=serializer.validated_data["note"],
                                                reauthenticated_at=twofactor.reauthenticated_at(request))
        return Response(RevealRequestSerializer(reveal).data)

    @extend_schema(request=RevealDecisionSerializer, responses=RevealRequestSerializer,
                   description="A custodian of the account other than the requester approves, after a "
                               "re-authentication within the last 5 minutes (else a 403 with `code` "
                               "`reauth_required`).")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=RevealDecisionSerializer, responses=RevealRequestSerializer,
                   description="A custodian of the account other than the requester rejects.")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)

    @extend_schema(
        request=SecondFactorSerializer,
        responses={200: RevealResultSerializer},
        description="The requester sees an approved secret once, after password and authenticator code; the "
                    "credential becomes due for rotation. The secret appears in this response only.",
    )
    @action(detail=True, methods=["post"], throttle_classes=[UserRateThrottle, SecretRevealThrottle])
    def reveal(self, request, pk=None):
        reveal = self.get_object()
        serializer = SecondFactorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret, visible_until = services.reveal_perform(actor=request.user, request=reveal,
                                                        **serializer.validated_data)
        return _secret_response(secret, visible_until)


# --- audit -----------------------------------------------------------------------------


class AuditEventFilter(filters.FilterSet):
    action = filters.CharFilter(field_name="action", lookup_expr="startswith")
    actor_name = filters.CharFilter(field_name="actor_name", lookup_expr="iexact")
    account_id = filters.NumberFilter(field_name="account_id")
    since = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor_name", "account_id", "since", "until", "target_type", "target_id"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, newest first: admins and executives."""

    serializer_class = AuditEventSerializer
    permission_classes = [permissions.IsAuthenticated, CanViewAuditEvents]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return AuditEvent.objects.order_by("-id")

