"""Sign-in through the API: creating a token (password, and the second
factor when the person has or needs one), listing and revoking one's own
tokens, re-authentication, sign out everywhere."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from socialops.throttling import AnonRateThrottle

from .. import audit, signin, twofactor
from ..models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["token_key", "name", "created", "expiry", "last_used_at"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    otp_token = serializers.CharField(max_length=32, required=False, allow_blank=True, write_only=True)
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(required=False, min_value=1,
                                               max_value=settings.SOCIALOPS_TOKEN_MAX_DAYS)


class TokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="Shown once: only its hash is stored.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]


class ReauthSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    otp_token = serializers.CharField(max_length=32, required=False, allow_blank=True, write_only=True)


class SignInThrottle(AnonRateThrottle):
    scope = "anon"


@method_decorator(sensitive_post_parameters("password", "otp_token"), name="dispatch")
class TokenCreateView(APIView):
    """Signs in with username, password and (for people who have or need one)
    the second factor's code, and returns a new named token with an expiry.
    The token is in this response only."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SignInThrottle]

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # django-axes counts failures and refuses locked-out username + address pairs here too.
        user = authenticate(request._request, username=values["username"], password=values["password"])
        if user is None or not user.is_active:
            return Response({"non_field_errors": ["The username or password is not correct."]},
                            status=status.HTTP_400_BAD_REQUEST)
        if twofactor.second_factor_needed(user):
            if not twofactor.has_confirmed_device(user):
                return Response({"otp_token": ["Set up an authenticator app on the portal's Security page "
                                               "before creating a token."]}, status=status.HTTP_400_BAD_REQUEST)
            if twofactor.verify_code(user, values.get("otp_token", "")) is None:
                audit.record(actor=user, action="auth.second_factor_failed", target=user, after={"path": "api"})
                return Response({"otp_token": ["The authenticator code is missing, not correct or used."]},
                                status=status.HTTP_400_BAD_REQUEST)
        token, plaintext = signin.api_token_create(actor=user, name=values["name"],
                                                   expires_in_days=values.get("expires_in_days"),
                                                   second_factor_verified=True)
        token.reauthenticated_at = timezone.now()
        token.save(update_fields=["reauthenticated_at"])
        body = ApiTokenSerializer(token).data
        return Response({"token": plaintext, **body}, status=status.HTTP_201_CREATED)


class TokenListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        tokens = ApiToken.objects.filter(user=request.user).order_by("-created")
        return Response(ApiTokenSerializer(tokens, many=True).data)


class TokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, token_key: str):
        token = ApiToken.objects.filter(user=request.user, token_key=token_key[:25]).first()
        if token is None:
            return Response({"detail": "No such token of yours."}, status=status.HTTP_404_NOT_FOUND)
        signin.api_token_revoke(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(sensitive_post_parameters("password", "otp_token"), name="dispatch")
class ReauthView(APIView):
    """Confirms password and second factor again; sensitive calls in the next
    few minutes (granting publish, approve or manage, approving a reveal,
    offboarding, break-glass) are accepted on this token or session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReauthSerializer, responses={200: None})
    def post(self, request):
        data = ReauthSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        at = signin.reauthenticate(user=request.user, password=data.validated_data["password"],
                                   otp_token=data.validated_data.get("otp_token", ""))
        if isinstance(request.auth, ApiToken):
            ApiToken.objects.filter(pk=request.auth.pk).update(reauthenticated_at=at)
        elif hasattr(request, "session"):
            request.session[twofactor.SESSION_REAUTH_AT_KEY] = at.isoformat()
        else:
            raise PermissionDenied("Re-authentication needs a session or an API token.")
        until = at + twofactor.reauth_window()
        return Response({"reauthenticated_until": until.isoformat()})


class SignOutEverywhereView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: None})
    def post(self, request):
        result = signin.sign_out_everywhere(actor=request.user, user=request.user, reason="through the API")
        return Response(result)
