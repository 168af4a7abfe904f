"""Forms of the ops console. Business rules live in ops.services; forms only parse input."""

from django import forms

from monitoring.models import MLModel

from .models import AuditRecord, Override, OverrideState
from .services import ADDITIVE_MAX, ITEM_MAX_LENGTH, MULTIPLIER_RANGE, REASON_MAX_LENGTH
from .targets import item_models

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _model_field(
    *, required: bool, empty_label: str | None, queryset=None, help_text=""
) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=MLModel.objects.order_by("slug") if queryset is None else queryset,
        to_field_name="slug",
        required=required,
        empty_label=empty_label,
        label="Model",
        help_text=help_text,
    )


def _reason_field(label: str = "Reason") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"At most {REASON_MAX_LENGTH:,} characters.",
    )


ITEM_MODELS_HELP = "Only models whose decisions are about items (ranking models) are listed."


class LookupForm(forms.Form):
    q = forms.CharField(label="Request id, customer id or item id", max_length=200)
    model = _model_field(required=False, empty_label="All models")


class BlacklistForm(forms.Form):
    model = _model_field(
        required=False, empty_label="All models", queryset=item_models(), help_text=ITEM_MODELS_HELP
    )
    item_id = forms.CharField(label="Item id", max_length=ITEM_MAX_LENGTH)
    reason = _reason_field()
    expires_at = forms.DateTimeField(
        label="Expires at (UTC, optional)",
        required=False,
        widget=DATETIME_WIDGET,
        help_text="Leave empty to keep the item blacklisted until someone revokes it.",
    )


class BoostForm(forms.Form):
    # No preselected model: a boost on the wrong model is silent, so the agent picks one.
    model = _model_field(
        required=True, empty_label="Choose a model", queryset=item_models(), help_text=ITEM_MODELS_HELP
    )
    item_id = forms.CharField(label="Item id", max_length=ITEM_MAX_LENGTH)
    mode = forms.ChoiceField(label="Kind of boost", choices=Override.BoostMode.choices)
    value = forms.FloatField(
        label="Value",
        help_text=f"Multiplier between {MULTIPLIER_RANGE[0]:g} and {MULTIPLIER_RANGE[1]:g} (e.g. 1.5), or an "
        f"amount between {-ADDITIVE_MAX:g} and {ADDITIVE_MAX:g} added to the score.",
    )
    starts_at = forms.DateTimeField(label="Starts at (UTC)", widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label="Ends at (UTC)", widget=DATETIME_WIDGET)
    reason = _reason_field()


class CorrectForm(forms.Form):
    corrected_outcome = forms.CharField(
        label="Corrected outcome",
        max_length=200,
        help_text="The decision it should have been, e.g. 0 or approve.",
    )
    reason = _reason_field()
    record_as_label = forms.BooleanField(
        label="Also record it as this decision's label (marked human-corrected)", required=False
    )


class RevokeForm(forms.Form):
    reason = _reason_field("Reason for revoking")


def _model_slug_choices(all_label: str) -> list[tuple[str, str]]:
    slugs = MLModel.objects.order_by("slug").values_list("slug", flat=True)
    return [("", "Any"), ("*", all_label), *[(slug, slug) for slug in slugs]]


class OverrideFilterForm(forms.Form):
    model = forms.ChoiceField(label="Model", required=False)
    item = forms.CharField(label="Item id", required=False, max_length=200)
    creator = forms.CharField(label="Created by", required=False, max_length=150)
    state = forms.ChoiceField(label="State", required=False, choices=[("", "Any"), *OverrideState.choices])
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any"), *Override.Kind.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = _model_slug_choices("Entries for all models")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditRecord.Action.choices]
    )
    actor = forms.CharField(label="Who", required=False, max_length=150)
    model = forms.ChoiceField(label="Model", required=False)
    item = forms.CharField(label="Item id", required=False, max_length=200)
    request_id = forms.CharField(label="Request id", required=False, max_length=200)
    since = forms.DateField(label="From (UTC)", required=False, widget=DATE_WIDGET)
    until = forms.DateField(label="Until (UTC, inclusive)", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        slugs = MLModel.objects.order_by("slug").values_list("slug", flat=True)
        self.fields["model"].choices = [("", "Any"), *[(slug, slug) for slug in slugs]]
