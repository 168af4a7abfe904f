from rest_framework import serializers

from lifecycle.models import Event, GateEvaluation, Policy


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PromoteSerializer(ReasonSerializer):
    force = serializers.BooleanField(required=False, default=False)


class ThresholdChangeSerializer(PromoteSerializer):
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0)


class McNemarSerializer(serializers.Serializer):
    a_only_right = serializers.IntegerField()
    b_only_right = serializers.IntegerField()
    p_value = serializers.FloatField()


class AucDifferenceSerializer(serializers.Serializer):
    value = serializers.FloatField()
    p_value = serializers.FloatField()


class ComparisonSerializer(serializers.Serializer):
    paired = serializers.IntegerField()
    agreement = serializers.FloatField(allow_null=True)
    agreement_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    kappa = serializers.FloatField(allow_null=True)
    score_correlation = serializers.FloatField(allow_null=True)
    labelled = serializers.IntegerField()
    mcnemar = McNemarSerializer(allow_null=True)
    metrics = serializers.DictField()
    roc_auc_difference = AucDifferenceSerializer(allow_null=True)
    verdict = serializers.ChoiceField(choices=["better", "worse", "no_difference", "inconclusive"])
    reason = serializers.CharField()
    flipped = serializers.ListField(child=serializers.DictField())
    estimated = serializers.DictField(required=False)
    change = serializers.DictField(allow_null=True)
    unpaired = serializers.DictField(required=False)


class ThresholdSerializer(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True)
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    recall_lower_bound = serializers.FloatField(allow_null=True)
    precision_lower_bound = serializers.FloatField(allow_null=True)
    labelled = serializers.IntegerField()
    current_threshold = serializers.FloatField(allow_null=True)


class StageChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    version = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    actor = serializers.CharField()
    reason = serializers.CharField()
    forced = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    gate = serializers.DictField(allow_null=True)


class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = Policy
        exclude = ["id", "model", "updated_at"]
        extra_kwargs = {"webhook_secret": {"write_only": True}}


def gate_body(gate: GateEvaluation | None) -> dict | None:
    if gate is None:
        return None
    return {"id": gate.pk, "outcome": gate.outcome, "failed": gate.failed_checks(), "checks": gate.checks,
            "candidate": gate.candidate.version, "baseline": gate.baseline.version if gate.baseline else None,
            "threshold": gate.threshold, "created_at": gate.created_at}


def event_body(event: Event) -> dict:
    return {
        "id": event.pk, "kind": event.kind,
        "version": event.version.version if event.version else None,
        "previous": event.previous.version if event.previous else None,
        "actor": event.actor, "reason": event.reason, "forced": event.forced, "created_at": event.created_at,
        "gate": gate_body(event.gate),
        "deliveries": [{"id": d.pk, "url": d.url, "status": d.status} for d in event.deliveries.all()],
    }


def policy_body(policy: Policy) -> dict:
    body = PolicySerializer(policy).data
    body["webhook_secret_set"] = bool(policy.webhook_secret)
    return body
