from django.urls import path

from . import views_custody as views

urlpatterns = [
    path("custody/", views.custody_overview, name="custody"),
    path("custody/<int:pk>/", views.custody_account, name="custody-account"),
    path("custody/<int:pk>/custodians/", views.custodian_add, name="custodian-add"),
    path("custody/<int:pk>/credentials/", views.credential_set, name="credential-set"),
    path("custody/custodians/<int:pk>/remove/", views.custodian_remove, name="custodian-remove"),
    path("custody/credentials/<int:pk>/reveal-request/", views.reveal_request_create, name="reveal-request-create"),
    path("custody/credentials/<int:pk>/break-glass/", views.break_glass, name="break-glass"),
    path("custody/reveals/<int:pk>/", views.reveal_detail, name="reveal-detail"),
    path("custody/reveals/<int:pk>/decide/", views.reveal_decide, name="reveal-decide"),
    path("custody/reveals/<int:pk>/cancel/", views.reveal_cancel, name="reveal-cancel"),
    path("security/totp/", views.totp_setup, name="totp"),
]
