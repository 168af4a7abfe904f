"""Shapes of the explain API for the OpenAPI schema (checked against real answers by
tests/test_api_contract.py)."""

from rest_framework import serializers


class ArtifactSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    format = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    explainer = serializers.CharField(help_text="tree, linear or permutation.")
    link = serializers.CharField(help_text="identity or logit: the space of the SHAP values.")
    checks = serializers.DictField(
        help_text="What was checked at upload: features, explainer, link, scores (against logged or "
        "reference scores), additivity."
    )
    replaced = serializers.BooleanField(help_text="True when it replaced the version's previous file.")


class ContributionSerializer(serializers.Serializer):
    feature = serializers.CharField()
    value = serializers.JSONField(allow_null=True, help_text="The feature's value in the prediction.")
    shap = serializers.FloatField(help_text="In the model's raw output space.")
    probability_points = serializers.FloatField(
        allow_null=True, help_text="Percentage points of the score; null for regression."
    )


class ReasonsSerializer(serializers.Serializer):
    up = serializers.ListField(child=serializers.CharField(), help_text="Factors that raised the score.")
    down = serializers.ListField(child=serializers.CharField(), help_text="Factors that lowered it.")
    summary = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    base_value = serializers.FloatField()
    output = serializers.FloatField(help_text="base_value + sum(shap), in the raw output space.")
    explainer = serializers.CharField()
    contributions = ContributionSerializer(many=True, help_text="Sorted by |shap|, largest first.")
    link = serializers.CharField()
    probability = serializers.FloatField(allow_null=True)
    base_probability = serializers.FloatField(allow_null=True)
    additivity_error = serializers.FloatField()
    reasons = ReasonsSerializer()
    request_id = serializers.CharField()
    model = serializers.CharField()
    version = serializers.CharField()
    score = serializers.FloatField()
    served = serializers.BooleanField(help_text="False for a shadow version's prediction (not acted on).")
    computed = serializers.DateTimeField()
