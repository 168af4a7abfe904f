"""Shapes of the serving API, for the OpenAPI schema (the views validate bodies themselves, faster)."""

from rest_framework import serializers


class BlacklistEntrySerializer(serializers.Serializer):
    item_id = serializers.CharField()
    scope = serializers.ChoiceField(choices=["model", "all"])
    expires_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class BoostEntrySerializer(serializers.Serializer):
    item_id = serializers.CharField()
    mode = serializers.ChoiceField(choices=["multiplier", "additive"])
    value = serializers.FloatField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ServingOverridesSerializer(serializers.Serializer):
    model = serializers.CharField()
    generated_at = serializers.DateTimeField()
    blacklist = BlacklistEntrySerializer(many=True)
    boosts = BoostEntrySerializer(many=True)


class CandidateInSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    score = serializers.FloatField()


class RerankRequestSerializer(serializers.Serializer):
    candidates = CandidateInSerializer(many=True, help_text="At most 10,000; item_ids unique.")
    entity_id = serializers.CharField(required=False, help_text="The customer, for the caller's records.")


class CandidateOutSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    score = serializers.FloatField()
    original_score = serializers.FloatField()
    rank = serializers.IntegerField()
    original_rank = serializers.IntegerField()
    reason = serializers.CharField(allow_null=True)


class RemovedSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    reason = serializers.CharField()


class RerankResponseSerializer(serializers.Serializer):
    candidates = CandidateOutSerializer(many=True)
    removed = RemovedSerializer(many=True)
