from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("security.api.urls")),
    path("", include("inbox.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include("security.urls")),
    path("inbox/", include("inbox.urls_webhooks")),
    path("inbox/", include("inbox.urls")),
    path("", include("accounts.urls")),
]
