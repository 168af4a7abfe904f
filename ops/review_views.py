"""Pages of the review queue: batches (draw one, schedule), a batch's estimates, the reviewer's page."""

import json
from datetime import UTC, datetime, time, timedelta
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from monitoring.models import MLModel

from . import clock
from .access import actor_required, viewer_required
from .explanations import explanation_context, kept_explanation_context, raw_removed_note
from .models import Relabel, ReviewBatch, ReviewItem, ReviewSchedule
from .review_selectors import (
    batch_patterns,
    batch_summary,
    item_prediction,
    matching_request_ids,
    model_decision,
)
from .review_stats import Pattern, describe_pattern
from .services import parse_outcome, relabel, review, user_can_act, user_can_review
from .views import decision_summary, feature_rows


def reviewer_required(view):
    @viewer_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not user_can_review(request.user):
            raise PermissionDenied("Reviewing decisions needs the reviewer permission: ask an admin.")
        return view(request, *args, **kwargs)

    return wrapped


class BatchForm(forms.Form):
    model = forms.ModelChoiceField(queryset=MLModel.objects.order_by("slug"), to_field_name="slug")
    start = forms.DateField(help_text="First day (UTC)")
    end = forms.DateField(help_text="Last day (UTC), included")
    size = forms.IntegerField(min_value=1, initial=100)
    double_share = forms.FloatField(min_value=0, max_value=0.5, initial=0.1, label="Share reviewed twice")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The last day must not be before the first.")
        return data


class ScheduleForm(forms.Form):
    model = forms.ModelChoiceField(queryset=MLModel.objects.order_by("slug"), to_field_name="slug")
    weekly_share = forms.FloatField(
        min_value=0.0001, max_value=1, initial=0.02, label="Share of a week's decisions"
    )
    double_share = forms.FloatField(min_value=0, max_value=0.5, initial=0.1, label="Share reviewed twice")
    max_size = forms.IntegerField(min_value=1, initial=500)
    enabled = forms.BooleanField(required=False, initial=True)


class ReviewForm(forms.Form):
    outcome = forms.CharField(max_length=200)
    note = forms.CharField(
        required=False, max_length=review.NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


def _attach(form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _day(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@reviewer_required
def batches(request):
    batch_form = BatchForm(request.POST if request.POST.get("form") == "batch" else None)
    schedule_form = ScheduleForm(request.POST if request.POST.get("form") == "schedule" else None)
    if request.method == "POST" and batch_form.is_bound and batch_form.is_valid():
        data = batch_form.cleaned_data
        try:
            batch = review.batch_create(
                model=data["model"], start=_day(data["start"]), end=_day(data["end"]) + timedelta(days=1),
                size=data["size"], double_share=data["double_share"], actor=request.user,
            )  # fmt: skip
        except ValidationError as error:
            _attach(batch_form, error)
        else:
            messages.success(
                request, f"Batch #{batch.pk}: {batch.size} of {batch.population} decisions to review."
            )
            return redirect("ops:review-batch", pk=batch.pk)
    if request.method == "POST" and schedule_form.is_bound and schedule_form.is_valid():
        data = schedule_form.cleaned_data
        try:
            review.schedule_set(**data)
        except ValidationError as error:
            _attach(schedule_form, error)
        else:
            messages.success(request, f"Weekly review of {data['model'].slug} saved.")
            return redirect("ops:reviews")
    context = {
        "nav": "ops", "tab": "reviews", "batch_form": batch_form, "schedule_form": schedule_form,
        "batches": ReviewBatch.objects.select_related("model")[:50],
        "schedules": ReviewSchedule.objects.select_related("model").order_by("model__slug"),
    }  # fmt: skip
    status = 400 if batch_form.errors or schedule_form.errors else 200
    return render(request, "ops/reviews.html", context, status=status)


@reviewer_required
def batch_detail(request, pk: int):
    batch = get_object_or_404(ReviewBatch.objects.select_related("model"), pk=pk)
    summary = batch_summary(batch=batch)
    patterns = [
        {"text": describe_pattern(p), "query": urlencode({"feature": p.feature, "condition": p.condition,
                                                          "value": json.dumps(p.value)})}
        for p in batch_patterns(batch=batch)
    ]  # fmt: skip
    return render(request, "ops/review_batch.html",
                  {"nav": "ops", "tab": "reviews", "batch": batch, "summary": summary, "patterns": patterns})  # fmt: skip


def _outcome_choices(model: MLModel, classes) -> list[tuple[str, str, str]]:
    """(value, label, key) for the outcome buttons; empty for a number typed in."""
    if model.task == "binary_classification":
        return [("1", "Positive (1)", "1"), ("0", "Negative (0)", "0")]
    if model.task == "multiclass_classification" and classes:
        return [(str(c), str(c), str(k + 1)) for k, c in enumerate(classes[:9])]
    return []


@reviewer_required
def review_page(request, pk: int):
    from monitoring.selectors.registry import model_classes

    batch = get_object_or_404(ReviewBatch.objects.select_related("model"), pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        item = get_object_or_404(ReviewItem, pk=request.POST.get("item"), batch=batch)
        if request.POST.get("action") == "skip":
            review.item_skip(item=item, reviewer=request.user)
            messages.info(request, f"Skipped {item.request_id}.")
            return redirect("ops:review", pk=batch.pk)
        if form.is_valid():
            try:
                result = review.review_record(
                    item=item, reviewer_name=request.user.get_username(), reviewer=request.user,
                    outcome=parse_outcome(form.cleaned_data["outcome"]), note=form.cleaned_data["note"],
                )  # fmt: skip
            except ValidationError as error:
                _attach(form, error)
            else:
                if not result.created:
                    messages.info(request, f"You had already reviewed {item.request_id}: counted once.")
                elif result.observed_label is not None:
                    messages.warning(request, f"{item.request_id}: your outcome disagrees with the observed label "
                                              f"{result.observed_label!r}, which stays; the disagreement is counted.")  # fmt: skip
                else:
                    messages.success(request, f"Reviewed {item.request_id}.")
                return redirect("ops:review", pk=batch.pk)
    else:
        item = review.item_claim(batch=batch, reviewer=request.user)
    summary_done = batch.items.filter(reviews__isnull=False).distinct().count()
    mine = batch.items.filter(reviews__reviewer_name=request.user.get_username()).count()
    context = {"nav": "ops", "tab": "reviews", "batch": batch, "item": item, "form": form,
               "progress": {"done": summary_done, "size": batch.size, "mine": mine,
                            "percent": round(100 * summary_done / batch.size) if batch.size else 100}}  # fmt: skip
    if item is not None:
        prediction, raw_gone = item_prediction(item=item, model=batch.model)
        if prediction.version is None:  # an item whose row was gone before ops/0007 kept it
            decided, decision, features = None, {"positive": None, "text": "not kept"}, []
        else:
            decided = model_decision(prediction, batch.model.task, prediction.version.threshold)
            decision, features = decision_summary(prediction), feature_rows(prediction)
        explained = kept_explanation_context(prediction=prediction) if raw_gone else explanation_context(
            prediction=prediction)
        context.update(
            prediction=prediction, decision=decision, decided=decided, features=features,
            choices=_outcome_choices(batch.model, model_classes(model=batch.model)),
            double=item.reviews_needed > 1, now=clock.now(), **explained,
            raw_removed=raw_removed_note(model=batch.model) if raw_gone else "",
        )  # fmt: skip
    return render(request, "ops/review.html", context, status=400 if form.errors else 200)


class RelabelForm(forms.Form):
    label = forms.CharField(
        max_length=200, help_text="The true outcome to record for every match, e.g. 1 or 0"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    expected = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _condition(request) -> dict:
    try:
        condition = {"feature": request.GET["feature"], "condition": request.GET["condition"],
                     "value": json.loads(request.GET["value"])}  # fmt: skip
    except (KeyError, ValueError):
        raise Http404("Unknown pattern: give feature, condition (eq, le, gt) and a JSON value.") from None
    if condition["condition"] not in ("eq", "le", "gt"):
        raise Http404("Unknown pattern condition.")
    return condition


def _without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _describe(condition: dict) -> str:
    text = describe_pattern(
        Pattern(condition["feature"], condition["condition"], condition["value"], 1, 1, 0, 0, 1.0)
    )
    return text.split(":", 1)[0]


@reviewer_required
def pattern(request, pk: int):
    """The decisions of the batch's period matching an error pattern, and their bulk relabel."""
    batch = get_object_or_404(ReviewBatch.objects.select_related("model"), pk=pk)
    condition = _condition(request)
    try:
        matches = matching_request_ids(
            model=batch.model, start=batch.start, end=batch.end, condition=condition
        )
    except ValueError:
        raise Http404("Unknown pattern condition.") from None
    form = RelabelForm(request.POST or None)
    preview = None
    can_act = user_can_act(request.user)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied("Relabelling needs the permission to act: ask an admin.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                if request.POST.get("action") == "apply" and data["expected"] is not None:
                    done = relabel.relabel_apply(
                        actor=request.user, model=batch.model, start=batch.start, end=batch.end, condition=condition,
                        label=parse_outcome(data["label"]), reason=data["reason"], description=_describe(condition),
                        expected=data["expected"],
                    )  # fmt: skip
                    messages.success(request, f"Relabelled {done.entries.count()} decisions (relabel #{done.pk}); "
                                              "you can undo it below.")  # fmt: skip
                    return redirect(request.get_full_path())
                relabel.normalise_label(model=batch.model, value=parse_outcome(data["label"]), field="label")
                preview = relabel.relabel_preview(
                    model=batch.model, start=batch.start, end=batch.end, condition=condition
                )
                form = RelabelForm(initial={**data, "expected": preview["to_relabel"]})
            except ValidationError as error:
                _attach(form, error)
    page = Paginator(matches, 25).get_page(request.GET.get("page"))
    relabels = Relabel.objects.filter(model=batch.model, description=_describe(condition)).select_related(
        "created_by"
    )
    context = {"nav": "ops", "tab": "reviews", "batch": batch, "description": _describe(condition), "page": page,
               "count": len(matches), "form": form, "preview": preview, "can_act": can_act, "relabels": relabels,
               "query": _without_page(request)}  # fmt: skip
    return render(request, "ops/review_pattern.html", context, status=400 if form.errors else 200)


@actor_required
def relabel_undo(request, pk: int):
    if request.method != "POST":
        raise Http404("Undo is a POST from the pattern page.")
    try:
        relabel.relabel_undo(actor=request.user, relabel_id=pk, reason=request.POST.get("reason", ""))
    except Relabel.DoesNotExist:
        raise Http404("No such relabel.") from None
    except ValidationError as error:
        for problems in error.message_dict.values():
            messages.error(request, " ".join(problems))
    else:
        messages.success(request, f"Relabel #{pk} undone.")
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/ops/") else reverse("ops:reviews"))
