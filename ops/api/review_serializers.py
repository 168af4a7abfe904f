"""Shapes of the review sample answers, for the OpenAPI schema."""

from rest_framework import serializers


class ReviewBatchRequestSerializer(serializers.Serializer):
    size = serializers.IntegerField(min_value=1)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    double_share = serializers.FloatField(required=False, min_value=0, max_value=0.5, help_text="Default 0.1")


class ReviewItemSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    stratum = serializers.ChoiceField(
        choices=["overridden", "near_threshold", "unusual_explanation", "uniform"]
    )
    inclusion_probability = serializers.FloatField()
    reviews_needed = serializers.IntegerField(help_text="2 for the items reviewed twice to measure agreement")


class ReviewBatchCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    population = serializers.IntegerField()
    items = ReviewItemSerializer(many=True)


class ReviewResultSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    label = serializers.JSONField()
    reviewer = serializers.CharField(max_length=150)
    note = serializers.CharField(required=False, max_length=2000)


class ReviewResultsAnswerSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Reviews a reviewer had already sent: counted once")
    labels_written = serializers.IntegerField()
    observed_label_disagreements = serializers.IntegerField(
        help_text="Reviews disagreeing with an observed label, which was kept"
    )


class RatioEstimateSerializer(serializers.Serializer):
    estimate = serializers.FloatField(allow_null=True)
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True, min_length=2, max_length=2)
    n = serializers.IntegerField()


class ReviewEstimateSerializer(serializers.Serializer):
    accuracy = serializers.FloatField(
        allow_null=True, help_text="Hajek estimate (weights 1/inclusion probability)"
    )
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True, min_length=2, max_length=2,
                               help_text="95% interval [low, high]")  # fmt: skip
    n = serializers.IntegerField()
    precision = RatioEstimateSerializer(required=False)
    recall = RatioEstimateSerializer(required=False)
    reason = serializers.CharField(required=False)


class ReviewerAgreementSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    kappa = serializers.FloatField(allow_null=True)
    pairs = serializers.IntegerField()


class ReviewAgreementSerializer(serializers.Serializer):
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa over the items reviewed twice")
    pairs = serializers.IntegerField()
    agreed = serializers.IntegerField()
    reviewers = ReviewerAgreementSerializer(many=True)


class ReviewStratumSerializer(serializers.Serializer):
    stratum = serializers.CharField()
    population = serializers.IntegerField()
    sampled = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    inclusion_probability = serializers.FloatField(allow_null=True)


class ReviewBatchStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    population = serializers.IntegerField()
    size = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    strata = ReviewStratumSerializer(many=True)
    estimate = ReviewEstimateSerializer()
    agreement = ReviewAgreementSerializer()
    observed_label_disagreements = serializers.IntegerField()
