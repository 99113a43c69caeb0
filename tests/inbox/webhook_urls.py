"""Routes the signed webhook for the webhook tests."""

from django.urls import include, path

urlpatterns = [
    path("inbox/", include("inbox.urls_webhooks")),
]
