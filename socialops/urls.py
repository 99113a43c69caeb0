from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views_signin

from . import views

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("security.api.urls")),
    path("", include("inbox.api.urls")),
    path("", include("strategy.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", views_signin.login_verify, name="login-verify"),
    path("confirm-access/", views_signin.confirm_access, name="confirm-access"),
    path("password/change/", views_signin.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views_signin.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views_signin.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # The admin signs in through the portal's own login (password, then the second factor).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include("security.urls")),
    path("inbox/", include("inbox.urls_webhooks")),
    path("inbox/", include("inbox.urls")),
    path("strategy/", include("strategy.urls")),
    path("", include("strategy.urls_digest")),
    path("", include("accounts.urls")),
]
