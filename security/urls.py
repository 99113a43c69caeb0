from django.urls import include, path

from . import views

app_name = "security"

urlpatterns = [
    path("channels/", views.account_list, name="account-list"),
    path("channels/new/", views.account_form, name="account-create"),
    path("channels/<int:pk>/", views.account_detail, name="account-detail"),
    path("channels/<int:pk>/edit/", views.account_form, name="account-edit"),
    path("channels/<int:pk>/grants/", views.grant_create, name="grant-create"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant-revoke"),
    path("me/access/", views.my_access, name="my-access"),
    path("training/", views.training, name="training"),
    path("audit/", views.audit, name="audit"),
    path("audit.csv", views.audit_csv, name="audit-csv"),
    path("people/<int:pk>/offboard/", views.offboard, name="offboard"),
    path("", include("security.urls_custody")),
]
