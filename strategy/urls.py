from django.urls import include, path

from . import views, views_digest, views_feed, views_reports

app_name = "strategy"

urlpatterns = [
    path("", views.register_page, name="register"),
    path("new/", views.strategy_new, name="new"),
    # The secret feed address first: nothing under calendar/ may shadow it.
    path("calendar/feed/<str:token>.ics", views_feed.feed_ics, name="calendar-feed"),
    path("calendar/", include("strategy.urls_calendar")),
    path("posts/", include("strategy.urls_posts")),
    path("reports/", views_reports.report_page, name="report"),
    path("reports/pdf/", views_reports.report_pdf, name="report-pdf"),
    path("reports/csv/<slug:table>/", views_reports.report_csv, name="report-csv"),
    path("brands/", views.brands_page, name="brands"),
    path("brands/new/", views.brand_new, name="brand-new"),
    path("brands/<int:pk>/edit/", views.brand_edit, name="brand-edit"),
    path("<int:pk>/", views.strategy_detail, name="detail"),
    path("<int:pk>/edit/", views.strategy_edit, name="edit"),
    path("<int:pk>/status/", views.status_change, name="status"),
    path("<int:pk>/owners/", views.owner_add, name="owner-add"),
    path("<int:pk>/owners/<int:owner_pk>/end/", views.owner_end, name="owner-end"),
    path("<int:pk>/objectives/", views.objective_add, name="objective-add"),
    path("<int:pk>/objectives/<int:objective_pk>/edit/", views.objective_edit, name="objective-edit"),
    path("<int:pk>/objectives/<int:objective_pk>/values/", views.kpi_value_add, name="kpi-value-add"),
    path("<int:pk>/segments/", views.segment_add, name="segment-add"),
    path("<int:pk>/channels/", views.plan_add, name="plan-add"),
    path("<int:pk>/campaigns/", views.campaign_add, name="campaign-add"),
    path("<int:pk>/campaigns/<int:campaign_pk>/spend/", views.spend_add, name="spend-add"),
    path("<int:pk>/decisions/", views.decision_add, name="decision-add"),
    path("<int:pk>/review/", views.review_complete, name="review"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    # The weekly reputation digest: the admins' list of deliveries (each person's own choice is /me/digest/).
    path("reports/deliveries/", views_digest.deliveries, name="digest-deliveries"),
    path("reports/deliveries/<int:pk>/retry/", views_digest.delivery_retry, name="digest-retry"),
]
