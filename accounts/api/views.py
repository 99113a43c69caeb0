from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..models import Membership
from ..permissions import IsAdminOrReadOnly
from .serializers import DepartmentSerializer, MembershipSerializer, MeSerializer, WorkgroupSerializer


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user


class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = DepartmentSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["is_specialist_team", "slug"]

    def get_queryset(self):
        return selectors.departments_visible_to(self.request.user).order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.department_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.department_update(actor=self.request.user, department=serializer.instance,
                                                         **serializer.validated_data)


class WorkgroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = WorkgroupSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["slug"]

    def get_queryset(self):
        return selectors.workgroups_with_supervisors(selectors.workgroups_visible_to(self.request.user)).order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.workgroup_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.workgroup_update(actor=self.request.user, workgroup=serializer.instance,
                                                        **serializer.validated_data)


class MembershipFilter(filters.FilterSet):
    active = filters.BooleanFilter(method="filter_active")

    class Meta:
        model = Membership
        fields = ["user", "department", "workgroup", "role"]

    def filter_active(self, queryset, name, value):
        active_ids = Membership.objects.active().values("pk")
        return queryset.filter(pk__in=active_ids) if value else queryset.exclude(pk__in=active_ids)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Memberships are never edited in place: create one, or end it."""

    serializer_class = MembershipSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_class = MembershipFilter

    def get_queryset(self):
        return selectors.memberships_visible_to(self.request.user).order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.membership_create(actor=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        membership = services.membership_end(actor=request.user, membership=self.get_object())
        return Response(MembershipSerializer(membership).data, status=status.HTTP_200_OK)
