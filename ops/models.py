"""Overrides that serving applies on top of a model, corrections of decisions, and their audit trail."""

from datetime import datetime

from django.conf import settings
from django.db import models

from monitoring.models import MLModel, ModelVersion, Prediction

from .apps import ACT_CODENAME, REVIEW_CODENAME

CHANGE_SEQUENCE = "ops_override_change_seq"


def next_change_seq() -> models.Func:
    return models.Func(models.Value(CHANGE_SEQUENCE), function="nextval")


class OverrideState(models.TextChoices):
    """Derived from times on read, never stored: an expiry takes effect without any job."""

    ACTIVE = "active", "Active"
    SCHEDULED = "scheduled", "Scheduled"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Override(models.Model):
    class Kind(models.TextChoices):
        BLACKLIST = "blacklist", "Blacklist"
        BOOST = "boost", "Boost"

    class BoostMode(models.TextChoices):
        MULTIPLIER = "multiplier", "Multiply the score"
        ADDITIVE = "additive", "Add to the score"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Null means every model serving this item.
    model = models.ForeignKey(MLModel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    item_id = models.CharField(max_length=200)
    boost_mode = models.CharField(max_length=16, choices=BoostMode.choices, null=True, blank=True)
    boost_value = models.FloatField(null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    # Drawn from a sequence on insert and on revoke: its maximum changes whenever the set of overrides
    # does, which makes the serving ETag one index lookup instead of a scan.
    change_seq = models.BigIntegerField(db_default=next_change_seq(), editable=False)

    class Meta:
        db_table = "ops_override"
        ordering = ["-created_at", "-id"]
        permissions = [(ACT_CODENAME, "Can blacklist, boost, correct decisions and revoke overrides")]
        indexes = [
            models.Index(fields=["model", "item_id"], name="override_model_item"),
            models.Index(fields=["item_id"], name="override_item"),
            models.Index(fields=["change_seq"], name="override_change_seq"),
            models.Index(
                fields=["starts_at"], name="override_live_start", condition=models.Q(revoked_at__isnull=True)
            ),
            models.Index(
                fields=["ends_at"], name="override_live_end", condition=models.Q(revoked_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="blacklist")
                | models.Q(boost_mode__isnull=False, boost_value__isnull=False, ends_at__isnull=False),
                name="override_boost_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="override_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id} ({self.scope_label})"

    @property
    def scope_label(self) -> str:
        return self.model.slug if self.model_id else "all models"

    def state_at(self, at: datetime) -> str:
        if self.revoked_at is not None:
            return OverrideState.REVOKED
        if self.starts_at > at:
            return OverrideState.SCHEDULED
        if self.ends_at is not None and self.ends_at <= at:
            return OverrideState.EXPIRED
        return OverrideState.ACTIVE

    def describe(self) -> str:
        """A short plain-language account, e.g. "boost x1.5" or "blacklist"."""
        if self.kind == self.Kind.BLACKLIST:
            return "blacklist"
        if self.boost_mode == self.BoostMode.MULTIPLIER:
            return f"boost x{self.boost_value:g}"
        return f"boost {self.boost_value:+g}"


class Correction(models.Model):
    """An agent's correction of one decision, optionally also recorded as its label."""

    # No database constraint: predictions are partitioned and dropped by retention, while the
    # correction (and its audit record) is kept.
    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    corrected_outcome = models.JSONField()
    reason = models.TextField()
    recorded_as_label = models.BooleanField(default=False)
    # The observed (not human) label the correction disagreed with and left in place.
    label_kept = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ops_correction"
        ordering = ["-created_at", "-id"]


class AuditRecord(models.Model):
    """Who did what, when, why, with the state before and after. Rows are never updated or deleted
    (a database trigger refuses it), so references are plain values rather than foreign keys that a
    later deletion would have to null out."""

    class Action(models.TextChoices):
        BLACKLIST = "blacklist", "Blacklist an item"
        BOOST = "boost", "Boost an item"
        REVOKE = "revoke", "Revoke an override"
        CORRECT = "correct", "Correct a decision"
        RELABEL = "relabel", "Relabel decisions in bulk"
        UNDO_RELABEL = "undo_relabel", "Undo a bulk relabel"

    actor_id = models.BigIntegerField(null=True)
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    model_slug = models.CharField(max_length=100, blank=True)
    item_id = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        db_table = "ops_audit_record"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="audit_created_at")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit records are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit records are immutable.")


class ReviewBatch(models.Model):
    """A stratified random sample of one model's decisions in [start, end), for people to review."""

    class Source(models.TextChoices):
        ON_DEMAND = "on_demand", "On demand"
        SCHEDULED = "scheduled", "Weekly schedule"

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    population = models.IntegerField()
    size = models.IntegerField()
    double_share = models.FloatField(default=0.1)
    # stratum -> [N_h, n_h]
    allocation = models.JSONField(default=dict)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ON_DEMAND)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ops_review_batch"
        ordering = ["-created_at", "-id"]
        permissions = [(REVIEW_CODENAME, "Can review sampled decisions")]


class ReviewItem(models.Model):
    batch = models.ForeignKey(ReviewBatch, on_delete=models.CASCADE, related_name="items")
    prediction = models.ForeignKey(
        Prediction, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    request_id = models.CharField(max_length=200)
    # What reviewing and the estimates read of the prediction, kept at sampling so the item still
    # counts and shows once retention has dropped the raw row. Null only on an item whose row was
    # gone before ops/0007 filled them in.
    version = models.ForeignKey(ModelVersion, null=True, on_delete=models.CASCADE, related_name="+")
    predicted_at = models.DateTimeField(null=True)
    score = models.FloatField(null=True)
    decision = models.JSONField(null=True)
    features = models.JSONField(null=True)
    position = models.IntegerField()
    stratum = models.CharField(max_length=32)
    inclusion_probability = models.FloatField()
    # 2 for the share of items reviewed twice to measure agreement.
    reviews_needed = models.SmallIntegerField(default=1)

    class Meta:
        db_table = "ops_review_item"
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "request_id"], name="uniq_review_item_request"),
            models.CheckConstraint(
                condition=models.Q(inclusion_probability__gt=0, inclusion_probability__lte=1),
                name="review_item_probability",
            ),
        ]


class ReviewAssignment(models.Model):
    """A reviewer holding, having reviewed or having skipped an item of the page's queue."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        REVIEWED = "reviewed", "Reviewed"
        SKIPPED = "skipped", "Skipped"

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField()

    class Meta:
        db_table = "ops_review_assignment"
        constraints = [models.UniqueConstraint(fields=["item", "reviewer"], name="uniq_review_assignment")]


class Review(models.Model):
    """One reviewer's verdict on one item. A second submission by the same reviewer counts once."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The API names reviewers by a string; the page uses the username.
    reviewer_name = models.CharField(max_length=150)
    outcome = models.JSONField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "ops_review"
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "reviewer_name"], name="uniq_review_reviewer")]


class ReviewSchedule(models.Model):
    """Draw a batch of a share of a model's decisions of the past week, once a week."""

    model = models.OneToOneField(MLModel, on_delete=models.CASCADE, related_name="+")
    weekly_share = models.FloatField()
    double_share = models.FloatField(default=0.1)
    max_size = models.IntegerField(default=500)
    enabled = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ops_review_schedule"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekly_share__gt=0, weekly_share__lte=1), name="review_schedule_share"
            )
        ]


class Relabel(models.Model):
    """A bulk relabel of the decisions matching an error pattern; undoable from its entries."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    description = models.TextField()
    conditions = models.JSONField()
    label = models.JSONField()
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ops_relabel"
        ordering = ["-created_at", "-id"]


class RelabelEntry(models.Model):
    relabel = models.ForeignKey(Relabel, on_delete=models.CASCADE, related_name="entries")
    request_id = models.CharField(max_length=200)
    # The human label replaced (null: there was none). Observed labels are never relabelled.
    previous = models.JSONField(null=True)

    class Meta:
        db_table = "ops_relabel_entry"
