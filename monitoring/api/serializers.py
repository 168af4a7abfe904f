"""Registry (de)serialisation, and schema-only descriptions of the bulk ingestion bodies.

Bulk rows are never validated by serializers (see monitoring.engine.validation); the
``*Row`` serializers below exist only so the OpenAPI schema describes them.
"""

from rest_framework import serializers

from core.api.fields import StrictCharField, StrictFloatField, StrictIntegerField, StrictSlugField
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Stage, Task

VERSION_HELP = ("1-100 characters: letters, digits, '.', '_', '-', '+', starting with a letter or digit "
                "(it becomes part of URLs and of the artifact's file name).")


class ModelSerializer(serializers.ModelSerializer):
    # The API keeps its published key names; the model fields follow the ``<verb>_at`` convention.
    created = serializers.DateTimeField(source="created_at", read_only=True)
    production_version = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    raw_available_from = serializers.DateTimeField(
        source="raw_purged_before", read_only=True, allow_null=True,
        help_text="Raw prediction rows before this were removed by retention (search, new explanations and "
                  "rebuilds are unavailable there; drift, performance, health and timeseries still answer). "
                  "Null: none removed yet.")

    class Meta:
        model = MLModel
        fields = ["slug", "name", "task", "description", "created", "production_version", "versions",
                  "raw_retention_days", "raw_available_from"]
        read_only_fields = ["raw_retention_days"]

    def get_production_version(self, obj: MLModel) -> str | None:
        production = [v for v in obj.versions.all() if v.stage == Stage.PRODUCTION]
        production.sort(key=lambda v: (v.promoted_at is not None, v.promoted_at, v.created_at, v.pk), reverse=True)
        return production[0].version if production else None

    def get_versions(self, obj: MLModel) -> list[str]:
        return [v.version for v in sorted(obj.versions.all(), key=lambda v: (v.created_at, v.pk), reverse=True)]


class ModelCreateSerializer(serializers.Serializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200)
    task = serializers.ChoiceField(choices=Task.choices)
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=5000)
    raw_retention_days = StrictIntegerField(
        required=False, default=90, min_value=1, max_value=3650,
        help_text="Days raw prediction rows are kept (whole UTC weeks are dropped once every model in them "
                  "is past its retention).")


class FeatureSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["numeric", "categorical", "boolean"])
    nullable = serializers.BooleanField(required=False, default=True)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False)
    display_name = serializers.CharField(required=False)
    unit = serializers.CharField(required=False)
    time_derived = serializers.BooleanField(
        required=False, help_text="Derived from the timestamp (hour of day, weekend): its drift is judged only "
        "against its own history, never against the reference alone.")


class VersionSerializer(serializers.ModelSerializer):
    features = FeatureSpecSerializer(many=True)
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    promoted = serializers.DateTimeField(source="promoted_at", required=False, allow_null=True)
    reference_rows = serializers.SerializerMethodField(help_text="Rows in the reference sample.")

    class Meta:
        model = ModelVersion
        fields = ["model", "version", "stage", "features", "threshold", "classes", "metadata", "created",
                  "promoted", "reference_rows"]

    def get_reference_rows(self, obj: ModelVersion) -> int:
        count = getattr(obj, "reference_row_count", None)
        return obj.reference_rows.count() if count is None else count


class VersionCreateSerializer(serializers.Serializer):
    # Feature entries are checked by services.registry.feature_schema_clean (it names the entry).
    version = StrictCharField(max_length=100, help_text=VERSION_HELP)
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.CANDIDATE)
    features = serializers.JSONField()
    threshold = StrictFloatField(required=False, allow_null=True, default=None)
    classes = serializers.JSONField(required=False, default=None)
    metadata = serializers.DictField(required=False, default=dict)


class VersionUpdateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    threshold = StrictFloatField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)


class PredictionRow(serializers.Serializer):
    request_id = serializers.CharField(help_text="Unique per model; a repeat is a duplicate.")
    version = serializers.CharField(required=False, help_text="Default: the current production version.")
    timestamp = serializers.DateTimeField(help_text="ISO 8601; naive means UTC; at most 1 day ahead.")
    features = serializers.DictField(help_text="Feature name -> value, typed by the version's schema.")
    score = serializers.FloatField(help_text="Binary: probability of the positive class; else the value.")
    prediction = serializers.JSONField(required=False)
    entity_id = serializers.CharField(required=False)
    item_id = serializers.CharField(required=False)
    segment = serializers.CharField(required=False)


class RejectedRow(serializers.Serializer):
    index = serializers.IntegerField()
    request_id = serializers.CharField(allow_null=True)
    errors = serializers.ListField(child=serializers.CharField())


class PredictionsResult(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectedRow(many=True)
    quality = serializers.DictField(
        help_text='Soft problems in the stored rows, e.g. {"income": {"nulls": 3, "out_of_range": 1}, '
        '"region": {"unseen": {"west": 2}}, "extra_key": {"unknown": 5}}.'
    )


class LabelRow(serializers.Serializer):
    request_id = serializers.CharField()
    label = serializers.JSONField(help_text="Binary: 0/1/true/false; multiclass: a class; else a number.")
    timestamp = serializers.DateTimeField(required=False, help_text="Default: when received.")


class LabelsResult(serializers.Serializer):
    matched = serializers.IntegerField()
    pending = serializers.IntegerField()
    rejected = RejectedRow(many=True)


class ReferenceRowIn(serializers.Serializer):
    features = serializers.DictField()
    score = serializers.FloatField(required=False, allow_null=True)
    label = serializers.JSONField(required=False, allow_null=True)


class ReferenceResult(serializers.Serializer):
    stored = serializers.IntegerField()
    total = serializers.IntegerField()
