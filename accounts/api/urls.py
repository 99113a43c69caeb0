from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DepartmentViewSet, MembershipViewSet, MeView, WorkgroupViewSet

router = SimpleRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("workgroups", WorkgroupViewSet, basename="workgroup")
router.register("memberships", MembershipViewSet, basename="membership")

urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
