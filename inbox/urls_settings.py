from django.urls import path

from . import views_settings as views

urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("settings/windows/<int:account_pk>/", views.service_window, name="service-window"),
    path("settings/windows/<int:account_pk>/closures/", views.closure_add, name="closure-add"),
    path("settings/sla/", views.sla_policies, name="sla-policies"),
    path("settings/triage/", views.triage_settings, name="triage-settings"),
    path("settings/routing/", views.routing_rules, name="routing-rules"),
    path("settings/routing/<int:pk>/", views.routing_rules, name="routing-rule-edit"),
]
