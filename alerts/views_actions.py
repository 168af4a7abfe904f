"""Pages that change things: acknowledge/snooze/rate an alert, edit rules (admins), silences, one-click feedback."""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import ADMINS, user_in
from monitoring.models import MLModel
from monitoring.views.access import scientist_required

from .forms import RuleForm, SilenceForm
from .models import Alert, AlertRule, Silence
from .selectors import silence_list
from .services.actions import NotFiring, alert_acknowledge, alert_snooze
from .services.feedback import feedback_record
from .services.links import feedback_read
from .services.rules import RuleInvalid, rule_create, rule_update
from .services.silences import SilenceInvalid, silence_create, silence_end


@scientist_required  # who may see it first, so a GET by anyone else is a login or a 403, not a 405
@require_POST
def alert_act(request, pk: int):
    alert = get_object_or_404(Alert, pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "acknowledge":
            alert_acknowledge(alert=alert, user=request.user)
            messages.success(request, "Acknowledged: no reminders for this alert.")
        elif action == "snooze":
            alert_snooze(alert=alert, user=request.user)
            messages.success(request, "Snoozed until it gets worse.")
        elif action in ("useful", "false_alarm", "expected_change"):
            feedback_record(alert=alert, verdict=action, rater=request.user.email or request.user.get_username(),
                            user=request.user)
            messages.success(request, "Thank you: your rating counts towards the rule's precision.")
        else:
            return HttpResponseBadRequest("action: one of acknowledge, snooze, useful, false_alarm, expected_change")
    except NotFiring as exc:
        messages.error(request, str(exc))
    return redirect("alerts:alert", pk=alert.pk)


def _admin(request) -> None:
    if not user_in(request.user, ADMINS):
        raise PermissionDenied("Only admins change alert rules and silences.")


@scientist_required
def rule_edit(request, slug: str, pk: int | None = None):
    _admin(request)
    model = get_object_or_404(MLModel, slug=slug)
    rule = get_object_or_404(AlertRule, pk=pk, model=model) if pk else None
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule) if rule else None)
    if request.method == "POST" and form.is_valid():
        try:
            if rule:
                rule_update(rule=rule, data=form.rule_data())
            else:
                rule_create(model=model, data=form.rule_data())
        except RuleInvalid as exc:
            for field, errors in exc.errors.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Rule saved.")
            return redirect("alerts:rules", slug=model.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts/rule_form.html", {"nav": "alerts", "model": model, "rule": rule, "form": form},
                  status=status)


@scientist_required
def silences_page(request):
    can_admin = user_in(request.user, ADMINS)
    form = SilenceForm(request.POST or None, initial={"model": request.GET.get("model", "")})
    status = 200
    if request.method == "POST":
        _admin(request)
        if "end" in request.POST:
            silence_end(silence=get_object_or_404(Silence, pk=request.POST.get("end")))
            return redirect("alerts:silences")
        if form.is_valid():
            d = form.cleaned_data
            model = MLModel.objects.filter(slug=d["model"]).first()
            rule = AlertRule.objects.filter(pk=d["rule"], model=model).first() if d.get("rule") else None
            if model is None:
                form.add_error("model", "No model with this slug.")
            elif d.get("rule") and rule is None:
                form.add_error("rule", "No such rule on this model.")
            else:
                try:
                    silence_create(model=model, until=d["until"], reason=d["reason"], rule=rule,
                                   kind=d.get("kind") or "", user=request.user)
                except SilenceInvalid as exc:
                    for field, errors in exc.errors.items():
                        form.add_error(field, errors)
                else:
                    messages.success(request, "Silence created.")
                    return redirect("alerts:silences")
        status = 400
    return render(request, "alerts/silences.html", {"nav": "alerts", "form": form, "can_admin": can_admin,
                                                    "silences": silence_list()[:200]}, status=status)


def feedback_click(request, token: str):
    """One click from an email: the signed token says which alert, who and what; no login needed."""
    try:
        data = feedback_read(token)
    except signing.BadSignature:
        return render(request, "alerts/feedback.html", {"error": "This link is invalid or has expired."}, status=400)
    alert = get_object_or_404(Alert.objects.select_related("model"), pk=data["a"])
    feedback_record(alert=alert, verdict=data["v"], rater=data["r"])
    return render(request, "alerts/feedback.html", {"alert": alert, "verdict": data["v"].replace("_", " ")})
