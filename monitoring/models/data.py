from django.db import models

from .registry import MLModel, ModelVersion


class Prediction(models.Model):
    """One logged decision of one version. Written in bulk by monitoring.services.ingest, never row by row.

    Layout and its scaling path are described in docs/architecture.md.
    """

    # No database-level foreign keys: their deferred checks cost two index probes per row at
    # commit (+50% on bulk writes, see docs/architecture.md). Ingestion resolves model and
    # version per batch, and Django still cascades deletes.
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    request_id = models.CharField(max_length=200)
    timestamp = models.DateTimeField()
    features = models.JSONField()
    score = models.FloatField()
    prediction = models.JSONField(null=True)
    # ``prediction`` as a number (monitoring.engine.coding): what paired comparisons read.
    decision_code = models.FloatField(null=True)
    entity_id = models.CharField(max_length=200, null=True)
    item_id = models.CharField(max_length=200, null=True)
    segment = models.CharField(max_length=100, null=True)
    # Rows shown together for one request (a ranking model's slate): ranking metrics per slate.
    slate_id = models.CharField(max_length=200, null=True)
    received_at = models.DateTimeField()
    # Whether this prediction was the decision acted on: false for a shadow version's rows.
    # Fixed when stored (from the version's stage then), so lookups keep showing what was
    # served after the shadow is promoted.
    served = models.BooleanField(default=True, db_default=True)

    class Meta:
        db_table = "monitoring_prediction"
        # A request is logged once per version (production and shadow side by side). The key
        # is ordered (model, version, request_id) and covers time, score and decision, so the
        # pairing of two versions' rows (monitoring.selectors.pairs) is a merge join of two
        # index-only scans. Lookups by request_id go through the model's versions
        # (monitoring.selectors.predictions): one index probe per version.
        constraints = [
            models.UniqueConstraint(fields=["model", "version", "request_id"], name="uniq_prediction_version_request",
                                    include=["timestamp", "score", "decision_code"])
        ]
        indexes = [
            models.Index(fields=["version", "timestamp"], name="pred_version_ts"),
            models.Index(
                fields=["model", "entity_id"],
                name="pred_model_entity",
                condition=models.Q(entity_id__isnull=False),
            ),
            models.Index(
                fields=["model", "item_id"],
                name="pred_model_item",
                condition=models.Q(item_id__isnull=False),
            ),
            models.Index(
                fields=["model", "slate_id"],
                name="pred_model_slate",
                condition=models.Q(slate_id__isnull=False),
            ),
        ]


class Label(models.Model):
    """The true outcome of a prediction, matched by request_id; may arrive before it."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, db_index=False)
    request_id = models.CharField(max_length=200)
    value = models.JSONField()
    # ``value`` as a number (monitoring.engine.coding): what paired comparisons read.
    value_code = models.FloatField(null=True)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    # Set when a support agent corrected the decision, so monitoring can count it apart.
    human_corrected = models.BooleanField(default=False)

    class Meta:
        db_table = "monitoring_label"
        constraints = [models.UniqueConstraint(fields=["model", "request_id"], name="uniq_label_request")]


class ReferenceRow(models.Model):
    """One row of a version's training (reference) sample."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="reference_rows")
    features = models.JSONField()
    score = models.FloatField(null=True)
    label = models.JSONField(null=True)

    class Meta:
        db_table = "monitoring_reference_row"
