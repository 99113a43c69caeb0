"""The signed webhook's route; included by the project under ``inbox/``
(not inside the ``inbox`` namespace: the name is ``inbox-webhook``)."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("webhooks/<int:account_id>/", webhooks.receive, name="inbox-webhook"),
]
