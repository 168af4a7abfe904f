from django.db import models


class Task(models.TextChoices):
    BINARY = "binary_classification", "Binary classification"
    MULTICLASS = "multiclass_classification", "Multiclass classification"
    REGRESSION = "regression", "Regression"
    RANKING = "ranking", "Ranking"


class Stage(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    SHADOW = "shadow", "Shadow"
    CANARY = "canary", "Canary"
    PRODUCTION = "production", "Production"
    ARCHIVED = "archived", "Archived"


# Traffic roles: a shadow version predicts the same requests as production but its decisions
# are not acted on. Rows of the other stages count as served (production and canary serve
# traffic; a candidate or archived version that logs is taken as having served, e.g. an old
# production version's late logs).
NOT_SERVING_STAGES = frozenset({Stage.SHADOW})
SERVING_STAGES = frozenset({Stage.PRODUCTION, Stage.CANARY})


class MLModel(models.Model):
    """A model as the business knows it (e.g. "loan-default"); versions hang below it."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    task = models.CharField(max_length=32, choices=Task.choices)
    description = models.TextField(blank=True)
    # Per-model monitoring settings (drift thresholds, alert rules); defaults live in code.
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # How long raw prediction rows are kept (monitoring.services.retention); sketches, results,
    # explanations, labels' folded counts, alerts and audit records are kept regardless.
    raw_retention_days = models.PositiveIntegerField(default=90, db_default=90)
    # Set by retention: raw rows timestamped before this are gone (search, new explanations and
    # re-folds from raw rows are unavailable there). Null: nothing removed yet.
    raw_purged_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "monitoring_model"
        ordering = ["slug"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.slug


class ModelVersion(models.Model):
    """One trained version of a model, with the feature schema its predictions follow.

    ``features`` is a list of ``{"name", "type": numeric|categorical|boolean, "nullable",
    "min", "max", "categories", "display_name", "unit"}`` in the model's input order.
    """

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=100)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CANDIDATE)
    features = models.JSONField(default=list)
    threshold = models.FloatField(null=True, blank=True)
    classes = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "monitoring_model_version"
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="uniq_model_version")]
        ordering = ["model_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.model.slug}@{self.version}"

    @property
    def serves_traffic(self) -> bool:
        """Whether predictions logged for this version now are the served decisions."""
        return self.stage not in NOT_SERVING_STAGES

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.features]
