import re

from django.conf import settings
from django.db import models

from monitoring.models import MLModel, ModelVersion, Prediction


class ArtifactFormat(models.TextChoices):
    LIGHTGBM = "lightgbm", "LightGBM model text"
    XGBOOST_JSON = "xgboost-json", "XGBoost JSON"
    XGBOOST_UBJ = "xgboost-ubj", "XGBoost UBJSON"
    SKOPS = "skops", "scikit-learn (skops)"
    PICKLE = "pickle", "pickle (trusted sha256 only)"
    JOBLIB = "joblib", "joblib (trusted sha256 only)"


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


def _artifact_path(instance: "ModelArtifact", filename: str) -> str:
    # Labels are validated at creation, but versions registered before that may hold "..":
    # a label that is not a plain name is replaced by the version's id.
    label = instance.version.version
    if not _PLAIN_NAME.fullmatch(label):
        label = f"version-{instance.version.pk}"
    return f"artifacts/{instance.version.model.slug}/{label}/{filename}"


class TrustedArtifactHash(models.Model):
    """A sha256 an admin vouched for; only such pickle/joblib files are ever unpickled."""

    sha256 = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "trusted artifact hash"

    def __str__(self) -> str:
        return self.sha256


class ModelArtifact(models.Model):
    """A model file for one version. Exactly one per version is ``current``; older ones are history."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="artifacts")
    file = models.FileField(upload_to=_artifact_path, max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=16, choices=ArtifactFormat.choices)
    size = models.BigIntegerField()
    explainer = models.CharField(max_length=32)
    # "logit" when the raw output is log-odds of the positive class, "identity" otherwise.
    link = models.CharField(max_length=16)
    checks = models.JSONField(default=dict)
    current = models.BooleanField(default=True)
    uploaded_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(current=True), name="uniq_current_artifact"
            )
        ]
        ordering = ["version_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.version} {self.format} {self.sha256[:12]}"


class Explanation(models.Model):
    """The stored SHAP explanation of one prediction (computed once, read many times).

    ``contributions`` is ``[{"feature", "value", "shap", "probability_points"}]`` sorted by
    |shap| descending; ``shap`` is in the raw output space, ``probability_points`` in
    percentage points of the score (null for regression).
    """

    # No database constraint: the prediction table is partitioned (its key is (id, timestamp))
    # and retention drops old partitions while their explanations are kept. Readers cope with
    # the prediction being gone (explain.selectors).
    prediction = models.OneToOneField(Prediction, on_delete=models.CASCADE, related_name="explanation",
                                      db_constraint=False)
    # What the explanation's API and page show of the prediction, kept here so both still answer
    # once retention has dropped the raw row (explain/0004 filled them in for older rows).
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=200)
    predicted_at = models.DateTimeField()
    score = models.FloatField()
    decision = models.JSONField(null=True)
    served = models.BooleanField()
    features = models.JSONField()
    artifact = models.ForeignKey(ModelArtifact, on_delete=models.CASCADE, related_name="+")
    explainer = models.CharField(max_length=32)
    link = models.CharField(max_length=16)
    base_value = models.FloatField()
    output = models.FloatField()
    probability = models.FloatField(null=True)
    base_probability = models.FloatField(null=True)
    additivity_error = models.FloatField()
    contributions = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Lookups by request without the raw row (explain.selectors.explanation_kept).
        indexes = [models.Index(fields=["model", "request_id"], name="explanation_model_request")]

    @staticmethod
    def kept_from(prediction: Prediction) -> dict:
        """The fields an explanation keeps of its prediction (see above)."""
        return {"prediction": prediction, "model_id": prediction.model_id, "version_id": prediction.version_id,
                "request_id": prediction.request_id, "predicted_at": prediction.timestamp, "score": prediction.score,
                "decision": prediction.prediction, "served": prediction.served, "features": prediction.features}


class ImportanceWindow(models.Model):
    """Mean |SHAP| per feature over a sample of one UTC day (or of the reference data, day=None).

    ``importances``: ``[{"feature", "mean_abs_shap", "share", "rank"}]`` (rank 1 = most important).
    ``dependence``: ``{feature: {"x": [...], "shap": [...]}}`` a sample for dependence plots.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="importance_windows")
    artifact = models.ForeignKey(ModelArtifact, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(null=True)
    rows_in_day = models.IntegerField(default=0)
    rows_explained = models.IntegerField()
    importances = models.JSONField()
    dependence = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "day"], name="uniq_importance_day"),
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(day__isnull=True), name="uniq_importance_reference"
            ),
        ]
        ordering = ["version_id", "day"]


class ImportanceFlag(models.Model):
    """A feature whose importance jumped on ``day`` against a baseline (trailing days or reference)."""

    class Baseline(models.TextChoices):
        TRAILING = "trailing", "Trailing 7 days (median)"
        REFERENCE = "reference", "Reference data"

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="importance_flags")
    day = models.DateField()
    feature = models.CharField(max_length=200)
    baseline = models.CharField(max_length=16, choices=Baseline.choices)
    share = models.FloatField()
    baseline_share = models.FloatField()
    rank = models.IntegerField()
    baseline_rank = models.IntegerField()
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "day", "feature", "baseline"], name="uniq_importance_flag")
        ]
        indexes = [models.Index(fields=["version", "day"], name="impflag_version_day")]
        ordering = ["version_id", "day", "feature"]
