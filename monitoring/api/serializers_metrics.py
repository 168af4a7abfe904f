"""Shapes of the monitoring reads for the OpenAPI schema; tests/test_api_contract.py checks the
real answers against them, so a field added to a report must be described here."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def _number(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


def _optional_number(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, required=False, help_text=help_text)


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Widened down to a whole UTC hour.")
    end = serializers.DateTimeField(help_text="Exclusive; widened up to a whole UTC hour.")
    rows = serializers.IntegerField(required=False, help_text="Predictions in the window.")


class FeatureDriftSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='The feature, or "score" for the prediction.')
    type = serializers.CharField(help_text="numeric, categorical or boolean.")
    psi = _number()
    js = _number(help_text="Jensen-Shannon distance.")
    wasserstein = _optional_number("Numeric only, in reference standard deviations.")
    ks_statistic = _optional_number("Numeric only.")
    ks_pvalue = _optional_number("Numeric only.")
    chi2_pvalue = _optional_number("Categorical only.")
    drifted = serializers.BooleanField()
    comparable = serializers.BooleanField(
        required=False, help_text="Present and false when one side has no binned values."
    )


class LabelShiftSerializer(serializers.Serializer):
    psi = _number()
    js = _number()
    chi2_pvalue = _optional_number()
    drifted = serializers.BooleanField()


class FeatureQualitySerializer(serializers.Serializer):
    name = serializers.CharField()
    null_rate = _number()
    out_of_range_rate = _number()
    unseen_rate = _number()
    unseen_categories = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="The most frequent unseen categories -> rows."
    )


class QualitySerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    late_rows = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    null_rate = _number(help_text="The highest null rate of any feature.")
    features = FeatureQualitySerializer(many=True)


class DriftSerializer(serializers.Serializer):
    window = WindowSerializer()
    version = serializers.CharField()
    complete = serializers.BooleanField(help_text="False while some rows of the range are not yet binned.")
    features = FeatureDriftSerializer(many=True)
    prediction = FeatureDriftSerializer(allow_null=True, help_text="The same statistics for the score.")
    drifted_features = serializers.ListField(child=serializers.CharField())
    share_drifted = _number()
    label_shift = LabelShiftSerializer(allow_null=True)
    quality = QualitySerializer()


class MetricsSerializer(serializers.Serializer):
    """Binary: accuracy to brier; multiclass: accuracy, macro_f1, weighted_f1; regression: mae to r2."""

    accuracy = _optional_number()
    precision = _optional_number()
    recall = _optional_number()
    f1 = _optional_number()
    fpr = _optional_number()
    fnr = _optional_number()
    roc_auc = _optional_number()
    log_loss = _optional_number()
    brier = _optional_number()
    macro_f1 = _optional_number()
    weighted_f1 = _optional_number()
    mae = _optional_number()
    rmse = _optional_number()
    mape = _optional_number("A fraction, not a percentage.")
    r2 = _optional_number()


class EstimatedSerializer(serializers.Serializer):
    accuracy = _number()
    precision = _number()
    recall = _number()
    f1 = _number()
    roc_auc = _number()
    calibrated = serializers.BooleanField(help_text="Whether the scores were calibrated on the reference.")


class PerformanceSerializer(serializers.Serializer):
    window = WindowSerializer()
    version = serializers.CharField()
    rows = serializers.IntegerField()
    labelled = serializers.IntegerField()
    label_coverage = _number()
    metrics = MetricsSerializer(help_text="Empty when no row of the range is labelled.")
    confusion_matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), required=False,
        help_text="Rows: true class, columns: predicted class, in the order of classes.",
    )
    classes = serializers.ListField(child=serializers.JSONField(), required=False)
    estimated = EstimatedSerializer(
        required=False, allow_null=True, help_text="Binary models: the label-free (CBPE) estimate."
    )


@extend_schema_field(
    {
        "type": "object",
        "required": ["t", "value"],
        "properties": {
            "t": {"type": "string", "format": "date-time", "description": "Start of the window."},
            "value": {"type": "number", "nullable": True, "description": "None when the window lacks it."},
        },
        "additionalProperties": True,
        "description": "Plus the metric's companions, e.g. drifted, labelled, realised, expected, lower/upper.",
    }
)
class PointField(serializers.JSONField):
    pass


class TimeseriesSerializer(serializers.Serializer):
    metric = serializers.CharField()
    granularity = serializers.ChoiceField(choices=["hour", "day"])
    feature = serializers.CharField(allow_null=True)
    version = serializers.CharField()
    segment = serializers.CharField(allow_blank=True, help_text="Empty: all rows.")
    points = serializers.ListField(child=PointField())
