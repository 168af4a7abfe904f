from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from lifecycle.models import Event, GateEvaluation, Policy
from monitoring.api.serializers_metrics import MetricsSerializer


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


class AucMarginSerializer(serializers.Serializer):
    margin = serializers.FloatField()
    lower = serializers.FloatField(help_text="one-sided 95% lower bound of b - a")
    upper = serializers.FloatField(help_text="one-sided 95% upper bound of b - a")
    p_non_inferior = serializers.FloatField(help_text="one-sided DeLong p of H0: b - a <= -margin")
    p_worse = serializers.FloatField(help_text="one-sided DeLong p of H0: b - a >= -margin")
    outcome = serializers.ChoiceField(choices=["pass", "fail", "inconclusive"],
                                      help_text="the gate's roc_auc_change: non-inferior, significantly worse, or neither")


class AucDifferenceSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="ROC AUC of b minus that of a")
    p_value = serializers.FloatField(help_text="paired DeLong test, two-sided")
    std_error = serializers.FloatField()
    ci = serializers.ListField(child=serializers.FloatField(), help_text="95% normal interval")
    a = serializers.FloatField()
    b = serializers.FloatField()
    margin_test = AucMarginSerializer(help_text="non-inferiority of b's ROC AUC at the model's margin")


class PairedMetricsSerializer(serializers.Serializer):
    a = MetricsSerializer(help_text="version A on the paired labelled requests, as the performance endpoint names them")
    b = MetricsSerializer(help_text="version B on the same requests")


class ComparisonSerializer(serializers.Serializer):
    a = serializers.CharField(help_text="version A")
    b = serializers.CharField(help_text="version B")
    paired = serializers.IntegerField()
    agreement = serializers.FloatField(allow_null=True)
    agreement_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    kappa = serializers.FloatField(allow_null=True)
    score_correlation = serializers.FloatField(allow_null=True)
    labelled = serializers.IntegerField()
    mcnemar = McNemarSerializer(allow_null=True)
    metrics = PairedMetricsSerializer()
    roc_auc_difference = AucDifferenceSerializer(allow_null=True)
    verdict = serializers.ChoiceField(choices=["better", "worse", "no_difference", "inconclusive"])
    reason = serializers.CharField()
    flipped = serializers.ListField(child=serializers.DictField())
    estimated = serializers.DictField(required=False)
    change = serializers.DictField(allow_null=True, help_text=(
        "b - a of accuracy (regression: a's MAE - b's) with its anytime-valid 95% sequence: the verdict's metric"))
    unpaired = serializers.DictField(required=False, help_text="canary / A-B comparison of disjoint traffic")
    classes = serializers.ListField(required=False, help_text="multiclass: class order of the decision codes")
    ranking = serializers.DictField(required=False, help_text="ranking models: jaccard_at_10, mean_rank_displacement")


class ThresholdSerializer(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True)
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    recall_lower_bound = serializers.FloatField(allow_null=True)
    precision_lower_bound = serializers.FloatField(allow_null=True)
    labelled = serializers.IntegerField()
    positives = serializers.IntegerField()
    current_threshold = serializers.FloatField(allow_null=True)
    target = serializers.DictField(child=serializers.FloatField())


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
    deliveries = serializers.ListField(child=serializers.DictField())


class GateRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(help_text='{"gate": [names of the checks that did not pass]}')
    gate = serializers.DictField(help_text="the stored gate evaluation: outcome, failed, checks with evidence")


class PolicySerializer(serializers.ModelSerializer):
    # Declared, not derived: the derived field's schema ("" or a URI as oneOf) matches "" twice.
    deployment_webhook = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                               help_text="URL; empty: none")
    retraining_webhook = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                               help_text="URL; empty: none")
    webhook_secret_set = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = [
            "margin", "min_pairs", "min_labels", "deployment_webhook", "retraining_webhook", "webhook_secret",
            "webhook_secret_set", "auto_rollback", "watch_hours", "max_age_days", "retrain_below",
            "retrain_windows", "retrain_min_labels", "retrain_cooldown_hours",
        ]
        extra_kwargs = {"webhook_secret": {"write_only": True}}

    def _url(self, value: str) -> str:
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except DjangoValidationError:
                raise serializers.ValidationError("Enter an http(s) URL.") from None
        return value

    def validate_deployment_webhook(self, value: str) -> str:
        return self._url(value)

    def validate_retraining_webhook(self, value: str) -> str:
        return self._url(value)

    def get_webhook_secret_set(self, policy: Policy) -> bool:
        return bool(policy.webhook_secret)


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
    return PolicySerializer(policy).data
