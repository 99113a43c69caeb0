"""Routing: sensitive and influencer conversations go to the specialist
team; otherwise the first matching rule decides the department queue and
priority; unmatched ones go to the default queue. Every decision is
recorded with the rule that made it."""

from accounts.models import Department

from .models import Conversation, Priority, RoutingDecision, RoutingRule, TriageSettings


class RuleBook:
    """Active rules and the special queues, loaded once per batch."""

    def __init__(self):
        self.rules = list(RoutingRule.objects.filter(is_active=True).select_related("department"))
        self.specialists = Department.objects.filter(is_specialist_team=True).order_by("pk").first()
        settings_row = TriageSettings.current()
        self.default = settings_row.default_department or Department.objects.order_by("pk").first()

    def decide(self, conversation: Conversation, text: str) -> tuple:
        """(rule or None, rule_name, department, priority, reason)."""
        if (conversation.is_sensitive or conversation.is_influencer) and self.specialists is not None:
            why = []
            if conversation.is_sensitive:
                why.append("sensitive: " + ", ".join(conversation.sensitive_categories or ["flagged"]))
            if conversation.is_influencer:
                why.append(f"influencer ({conversation.author.followers} followers)")
            return None, "specialist team", self.specialists, Priority.HIGH, "; ".join(why)
        lowered = (text or "").lower()
        for rule in self.rules:
            if rule.intent and rule.intent != conversation.intent:
                continue
            if rule.account_id and rule.account_id != conversation.account_id:
                continue
            if rule.language and rule.language != conversation.language:
                continue
            if rule.sentiment and rule.sentiment != conversation.sentiment:
                continue
            keywords = rule.keyword_list()
            if keywords and not any(k in lowered for k in keywords):
                continue
            return rule, rule.name, rule.department, rule.priority, f"rule '{rule.name}' matched"
        return None, "default queue", self.default, Priority.NORMAL, "no rule matched"


def route(conversation: Conversation, text: str, book: RuleBook, *, actor=None) -> RoutingDecision:
    """Sets the conversation's department and priority; returns the unsaved
    decision for the caller to bulk-create."""
    rule, rule_name, department, priority, reason = book.decide(conversation, text)
    conversation.department = department
    conversation.priority = max(priority, conversation.priority) if conversation.pk else priority
    return RoutingDecision(conversation=conversation, rule=rule, rule_name=rule_name, department=department,
                           priority=priority, reason=reason[:300], decided_by=actor)
