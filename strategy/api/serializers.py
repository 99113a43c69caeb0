"""Serializers of the strategy register. Money (budgets, spend) is left out
for people who may not see it (``strategy.permissions.can_see_money``)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from security.models import SocialAccount

from .. import kpis
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
from ..permissions import can_see_money


class MoneyAware(serializers.ModelSerializer):
    money_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        strategy = getattr(instance, "strategy", None)
        if self.money_fields and request is not None and strategy is not None:
            cache = self.context.setdefault("_money", {})
            if strategy.pk not in cache:
                cache[strategy.pk] = can_see_money(request.user, strategy)
            if not cache[strategy.pk]:
                for name in self.money_fields:
                    data.pop(name, None)
        return data


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "description", "accounts", "managers", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"managers": {"required": False, "help_text": "Active social media managers; a social "
                                                                      "media manager who creates a brand is one."}}


class BrandUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    accounts = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=SocialAccount.objects.all())
    managers = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=User.objects.all(),
                                                  help_text="Active social media managers.")
    reason = serializers.CharField(max_length=100)


class OwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = StrategyOwner
        fields = ["id", "strategy", "user", "department", "responsibility", "added_at", "ended_at"]
        read_only_fields = ["id", "added_at", "ended_at"]


class StrategySerializer(serializers.ModelSerializer):
    owner_departments = serializers.IntegerField(read_only=True, help_text="Departments of the owners that count.")
    below_two_departments = serializers.SerializerMethodField()

    class Meta:
        model = Strategy
        fields = ["id", "brand", "title", "summary", "status", "accountable", "review_cadence_months",
                  "next_review_on", "owner_departments", "below_two_departments", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "next_review_on", "created_at", "updated_at"]
        extra_kwargs = {"accountable": {"required": False,
                                        "help_text": "A social media manager; the creator when left out."}}

    @extend_schema_field(serializers.BooleanField(help_text="Active, yet owned by fewer than two departments."))
    def get_below_two_departments(self, obj) -> bool:
        return obj.status == Strategy.Status.ACTIVE and getattr(obj, "owner_departments", 2) < 2


class StrategyUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    review_cadence_months = serializers.IntegerField(min_value=1, max_value=24, required=False)
    reason = serializers.CharField(max_length=100)


class StrategyStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Strategy.Status.choices)
    reason = serializers.CharField(max_length=100)


class ReviewSerializer(serializers.Serializer):
    changes = serializers.CharField(max_length=5000)


class EndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=100)


class ObjectiveSerializer(serializers.ModelSerializer):
    current_value = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Objective
        fields = ["id", "strategy", "owner", "title", "kind", "category", "kpi", "baseline", "target", "direction",
                  "starts_on", "deadline", "accounts", "current_value", "progress"]
        read_only_fields = ["id", "current_value", "progress"]
        extra_kwargs = {"kpi": {"help_text": "One of: " + ", ".join(kpis.KPIS)}}

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_current_value(self, obj):
        value = self.context.get("values", {}).get(obj.pk)
        return None if value is None else str(value)

    @extend_schema_field(serializers.ChoiceField(choices=["on_track", "at_risk", "off_track"], allow_null=True))
    def get_progress(self, obj):
        return self.context.get("progress", {}).get(obj.pk)


class ObjectiveUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    target = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    deadline = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=100)


class KpiValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = KpiValue
        fields = ["id", "objective", "value", "measured_on", "source", "entered_by", "entered_at"]
        read_only_fields = ["id", "entered_by", "entered_at"]


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "strategy", "owner", "name", "kind", "description", "accounts"]
        read_only_fields = ["id"]


class ChannelPlanSerializer(MoneyAware):
    money_fields = ("budget", "currency")

    class Meta:
        model = ChannelPlan
        fields = ["id", "strategy", "owner", "account", "rationale", "segments", "tone", "posts_per_week",
                  "promised_coverage", "budget", "currency"]
        read_only_fields = ["id"]


class CampaignSerializer(MoneyAware):
    money_fields = ("budget", "currency", "spent")
    spent = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = Campaign
        fields = ["id", "strategy", "owner", "objective", "name", "accounts", "starts_on", "ends_on", "budget",
                  "currency", "spent"]
        read_only_fields = ["id", "spent"]


class SpendSerializer(serializers.ModelSerializer):
    class Meta:
        model = Spend
        fields = ["id", "campaign", "amount", "currency", "spent_on", "note", "entered_by", "entered_at"]
        read_only_fields = ["id", "entered_by", "entered_at"]


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "strategy", "decided_on", "decided_by", "title", "rationale", "alternatives", "recorded_by",
                  "recorded_at"]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


class ChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    who = serializers.CharField()
    why = serializers.CharField()
    what = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    history_id = serializers.IntegerField()
    model = serializers.CharField()


class DifferenceSerializer(serializers.Serializer):
    section = serializers.CharField()
    item = serializers.CharField()
    field = serializers.CharField()
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class KpiSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    better = serializers.ChoiceField(choices=["higher", "lower"])
    computed = serializers.BooleanField(help_text="Computed by the portal; otherwise entered by hand.")
