"""The strategy register's API: thin viewsets over ``strategy.services``.

Every member of the workgroup reads the register (the organisation's
shared plan); budgets and spend only reach those allowed to see money.
Writes go through the services, whose PermissionDenied is a 403 and whose
ValidationError is a 400 naming the field."""

from django.db.models import Sum
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .. import kpis, selectors, services, versions
from ..forms import CompareForm
from ..models import (
    Brand,
    Campaign,
    ChannelPlan,
    Decision,
    KpiValue,
    Objective,
    Segment,
    Spend,
    Strategy,
    StrategyOwner,
)
from ..permissions import can_read_register, can_see_money, sees_all_money
from ..progress import objective_figures
from .serializers import (
    BrandSerializer,
    BrandUpdateSerializer,
    CampaignSerializer,
    ChangeSerializer,
    ChannelPlanSerializer,
    DecisionSerializer,
    DifferenceSerializer,
    EndSerializer,
    KpiSerializer,
    KpiValueSerializer,
    ObjectiveSerializer,
    ObjectiveUpdateSerializer,
    OwnerSerializer,
    ReviewSerializer,
    SegmentSerializer,
    SpendSerializer,
    StrategySerializer,
    StrategyStatusSerializer,
    StrategyUpdateSerializer,
)


class RegisterReaders(permissions.BasePermission):
    message = "The strategy register is open to members of the workgroup."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and can_read_register(request.user))


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _Base(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, RegisterReaders]


class _CreatesThroughService:
    """A part of a strategy is created by its service (rights, audit, version),
    which takes the validated fields as they are (``strategy``, ``owner``,
    and its many-to-many lists)."""

    create_service = None

    def perform_create(self, serializer):
        serializer.instance = self.create_service(actor=self.request.user, **serializer.validated_data)


class BrandViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    serializer_class = BrandSerializer
    queryset = Brand.objects.prefetch_related("accounts", "managers").order_by("id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.brand_create(actor=self.request.user, name=data["name"], slug=data["slug"],
                                                    description=data.get("description", ""),
                                                    accounts=data.get("accounts", []),
                                                    managers=data.get("managers", []))

    @extend_schema(request=BrandUpdateSerializer, responses={200: BrandSerializer},
                   description="Admins and the brand's managers; accounts and managers are replaced as given.")
    def partial_update(self, request, pk=None):
        data = dict(_valid(BrandUpdateSerializer, request.data))
        brand = services.brand_update(actor=request.user, brand=self.get_object(), **data)
        return Response(BrandSerializer(self.get_queryset().get(pk=brand.pk)).data)


class StrategyViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    serializer_class = StrategySerializer

    def get_queryset(self):
        return selectors.with_owner_departments(Strategy.objects.select_related("brand")).order_by("id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.strategy_create(
            actor=self.request.user, brand=data["brand"], title=data["title"], summary=data.get("summary", ""),
            accountable=data.get("accountable"), review_cadence_months=data.get("review_cadence_months", 3))

    def _respond(self, strategy):
        return Response(StrategySerializer(self.get_queryset().get(pk=strategy.pk)).data)

    @extend_schema(request=StrategyUpdateSerializer, responses={200: StrategySerializer})
    def partial_update(self, request, pk=None):
        data = dict(_valid(StrategyUpdateSerializer, request.data))
        reason = data.pop("reason")
        return self._respond(services.strategy_update(actor=request.user, strategy=self.get_object(), reason=reason,
                                                      **data))

    @extend_schema(request=StrategyStatusSerializer, responses={200: StrategySerializer},
                   description="Draft, active, under review, retired. Becoming active needs owners from at least "
                               "two departments (a 400 on `status` says who owns it now).")
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        data = _valid(StrategyStatusSerializer, request.data)
        return self._respond(services.strategy_set_status(actor=request.user, strategy=self.get_object(), **data))

    @extend_schema(request=ReviewSerializer, responses={200: StrategySerializer},
                   description="Completes the review: who reviewed, what changed; sets the next review date.")
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        strategy = self.get_object()
        services.review_complete(actor=request.user, strategy=strategy, **_valid(ReviewSerializer, request.data))
        return self._respond(strategy)

    @extend_schema(responses={200: ChangeSerializer(many=True)},
                   description="Every recorded change to the strategy and its parts, newest first.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, pk=None):
        return Response(ChangeSerializer(versions.timeline(self.get_object()), many=True).data)

    @extend_schema(parameters=[OpenApiParameter("from", str, required=True, description="ISO 8601 instant"),
                               OpenApiParameter("to", str, required=True, description="ISO 8601 instant")],
                   responses={200: DifferenceSerializer(many=True)},
                   description="The document at two moments, field by field.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def compare(self, request, pk=None):
        form = CompareForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        moments = form.moments
        strategy = self.get_object()
        differences = versions.compare(strategy, moments["from"], moments["to"],
                                       include_money=can_see_money(request.user, strategy))
        return Response(DifferenceSerializer(differences, many=True).data)


class OwnerViewSet(_Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = OwnerSerializer
    queryset = StrategyOwner.objects.order_by("id")
    filterset_fields = ["strategy", "department"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.owner_add(actor=self.request.user, strategy=data["strategy"],
                                                 user=data["user"], department=data["department"],
                                                 responsibility=data.get("responsibility", ""))

    @extend_schema(request=EndSerializer, responses={200: OwnerSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        owner = get_object_or_404(StrategyOwner, pk=pk)
        owner = services.owner_end(actor=request.user, owner=owner, **_valid(EndSerializer, request.data))
        return Response(OwnerSerializer(owner).data)


class ObjectiveViewSet(_CreatesThroughService, _Base, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin):
    serializer_class = ObjectiveSerializer
    create_service = staticmethod(services.objective_create)
    # Everything the figures read, fetched once per page rather than per objective.
    queryset = (Objective.objects.select_related("strategy__brand")
                .prefetch_related("accounts", "strategy__brand__accounts", "manual_values").order_by("id"))
    filterset_fields = ["strategy", "kind"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            context["lazy_figures"] = True
        return context

    def _with_figures(self, objectives, many):
        figures = {o.pk: objective_figures(o) for o in objectives}
        context = {**self.get_serializer_context(), "values": {pk: f.current for pk, f in figures.items()},
                   "progress": {pk: f.progress for pk, f in figures.items()}}
        return ObjectiveSerializer(objectives if many else objectives[0], many=many, context=context).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._with_figures(list(page), True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._with_figures([self.get_object()], False))


    @extend_schema(request=ObjectiveUpdateSerializer, responses={200: ObjectiveSerializer})
    def partial_update(self, request, pk=None):
        data = dict(_valid(ObjectiveUpdateSerializer, request.data))
        reason = data.pop("reason")
        objective = services.objective_update(actor=request.user, objective=self.get_object(), reason=reason, **data)
        return Response(self._with_figures([objective], False))


class KpiValueViewSet(_Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = KpiValueSerializer
    queryset = KpiValue.objects.order_by("id")
    filterset_fields = ["objective"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.kpi_value_add(actor=self.request.user, objective=data["objective"],
                                                     value=data["value"], measured_on=data["measured_on"],
                                                     source=data["source"])


class SegmentViewSet(_CreatesThroughService, _Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = SegmentSerializer
    create_service = staticmethod(services.segment_create)
    queryset = Segment.objects.prefetch_related("accounts").order_by("id")
    filterset_fields = ["strategy", "kind"]



class ChannelPlanViewSet(_CreatesThroughService, _Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = ChannelPlanSerializer
    create_service = staticmethod(services.channel_plan_create)
    queryset = ChannelPlan.objects.select_related("strategy").prefetch_related("segments").order_by("id")
    filterset_fields = ["strategy", "account"]



class CampaignViewSet(_CreatesThroughService, _Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = CampaignSerializer
    create_service = staticmethod(services.campaign_create)
    filterset_fields = ["strategy", "objective"]

    def get_queryset(self):
        return (Campaign.objects.select_related("strategy").prefetch_related("accounts")
                .annotate(spent=Sum("spend__amount")).order_by("id"))



class SpendViewSet(_Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = SpendSerializer
    filterset_fields = ["campaign"]

    def get_queryset(self):
        qs = Spend.objects.select_related("campaign__strategy").order_by("id")
        if getattr(self, "swagger_fake_view", False) or sees_all_money(self.request.user):
            return qs
        # Owners see the spend of the strategies they own parts of.
        return qs.filter(campaign__strategy__owners__user=self.request.user,
                         campaign__strategy__owners__ended_at__isnull=True).distinct()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.spend_add(actor=self.request.user, campaign=data["campaign"],
                                                 amount=data["amount"], currency=data["currency"],
                                                 spent_on=data["spent_on"], note=data.get("note", ""))


class DecisionViewSet(_Base, mixins.ListModelMixin, mixins.CreateModelMixin):
    serializer_class = DecisionSerializer
    queryset = Decision.objects.order_by("id")
    filterset_fields = ["strategy"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.decision_add(
            actor=self.request.user, strategy=data["strategy"], decided_on=data["decided_on"],
            decided_by=data["decided_by"], title=data["title"], rationale=data["rationale"],
            alternatives=data.get("alternatives", ""))


class KpiCatalogue(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, RegisterReaders]

    @extend_schema(responses={200: KpiSerializer(many=True)},
                   description="The KPIs an objective can measure: computed by the portal, or entered by hand.")
    def list(self, request):
        return Response(KpiSerializer([{"key": k.key, "label": str(k.label), "unit": str(k.unit),
                                        "better": k.better, "computed": k.computed} for k in kpis.KPIS.values()],
                                      many=True).data)
