from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DepartmentViewSet, MembershipViewSet, MeView, WorkgroupViewSet
from .views_signin import ReauthView, SignOutEverywhereView, TokenCreateView, TokenDetailView, TokenListView

router = SimpleRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("workgroups", WorkgroupViewSet, basename="workgroup")
router.register("memberships", MembershipViewSet, basename="membership")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("auth/token/", TokenCreateView.as_view(), name="api-token-create"),
    path("auth/tokens/", TokenListView.as_view(), name="api-token-list"),
    path("auth/tokens/<str:token_key>/", TokenDetailView.as_view(), name="api-token-detail"),
    path("auth/reauth/", ReauthView.as_view(), name="api-reauth"),
    path("auth/sign-out-everywhere/", SignOutEverywhereView.as_view(), name="api-sign-out-everywhere"),
    *router.urls,
]
