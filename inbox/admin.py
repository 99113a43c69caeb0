from django.contrib import admin

from .models import (
    Author,
    Conversation,
    ConversationEvent,
    IntentCorrection,
    Message,
    Note,
    QueueSettings,
    Reply,
    RoutingDecision,
    RoutingRule,
    SavedReply,
    SensitiveTerm,
    ServiceClosure,
    ServicePeriod,
    ServiceWindow,
    SlaPolicy,
    Tag,
    TriageModel,
    TriageSettings,
)


class ServicePeriodInline(admin.TabularInline):
    model = ServicePeriod
    extra = 0


class ServiceClosureInline(admin.TabularInline):
    model = ServiceClosure
    extra = 0


@admin.register(ServiceWindow)
class ServiceWindowAdmin(admin.ModelAdmin):
    list_display = ("account", "time_zone", "always_open", "holiday_country")
    inlines = [ServicePeriodInline, ServiceClosureInline]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "author", "status", "intent", "sentiment", "department", "assignee",
                    "first_response_due_at", "sla_breached")
    list_filter = ("status", "intent", "sentiment", "is_sensitive", "is_influencer", "sla_breached", "department")
    raw_id_fields = ("author", "assignee")
    search_fields = ("subject", "author__handle")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("platform_message_id", "account", "direction", "intent", "sentiment", "sent_at")
    list_filter = ("direction", "intent", "sentiment")
    raw_id_fields = ("conversation", "author", "sent_by")


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    list_display = ("version", "trained_at", "training_size", "accuracy", "is_active")
    exclude = ("pipeline",)
    readonly_fields = ("version", "trained_at", "training_size", "accuracy")


for model in (Author, ConversationEvent, IntentCorrection, Note, QueueSettings, Reply, RoutingDecision, RoutingRule,
              SavedReply, SensitiveTerm, SlaPolicy, Tag, TriageSettings):
    admin.site.register(model)
