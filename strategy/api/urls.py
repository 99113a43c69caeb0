from django.urls import path
from rest_framework.routers import SimpleRouter

from . import posts, reports, views

router = SimpleRouter()
router.register("posts", posts.PostViewSet, basename="post")
router.register("brands", views.BrandViewSet, basename="brand")
router.register("strategies", views.StrategyViewSet, basename="strategy")
router.register("strategy-owners", views.OwnerViewSet, basename="strategy-owner")
router.register("objectives", views.ObjectiveViewSet, basename="objective")
router.register("kpi-values", views.KpiValueViewSet, basename="kpi-value")
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("channel-plans", views.ChannelPlanViewSet, basename="channel-plan")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("spend", views.SpendViewSet, basename="spend")
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("kpis", views.KpiCatalogue, basename="kpi")

urlpatterns = [path("reports/", reports.ReportView.as_view(), name="reputation-report"), *router.urls]
