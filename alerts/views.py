"""Read pages: alerts list, an alert (timeline, windows chart, messages, feedback), rules, the log."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from core.roles import ADMINS, user_in
from monitoring.models import MLModel
from monitoring.views.access import scientist_required
from monitoring.views.render import chart

from .forms import AlertFilterForm
from .models import Alert, Feedback, Notification
from .selectors import alert_list, notification_log, rule_list
from .services.feedback import MIN_RATINGS, PRECISION_FLOOR, rule_precision
from .services.headline import trouble_began

PAGE_SIZE = 50


def _model_or_none(slug: str):
    return MLModel.objects.filter(slug=slug).first() if slug else None


@scientist_required
def alert_list_page(request):
    form = AlertFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    model = _model_or_none(filters.get("model", ""))
    found = alert_list(model=model, severity=filters.get("severity", ""), state=filters.get("state", ""))
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for alert in page:
        # "Since" as the subjects say it: the start of the first breaching window, not the firing.
        alert.began = trouble_began(alert, alert.rule)
    return render(request, "alerts/list.html", {"nav": "alerts", "form": form, "page": page,
                                                "models": MLModel.objects.order_by("slug")})


def windows_chart(alert: Alert) -> dict:
    windows = list(alert.windows.all())
    x = [w.window_start.isoformat() for w in windows]
    data = [{"type": "scatter", "mode": "lines+markers", "name": alert.metric or alert.kind, "x": x,
             "y": [w.value for w in windows],
             "marker": {"color": ["#c0392b" if w.breached else "#2c3e50" for w in windows]}}]
    if any(w.low is not None for w in windows):
        data.insert(0, {"type": "scatter", "mode": "lines", "name": "expected low", "x": x,
                        "y": [w.low for w in windows], "line": {"dash": "dot", "color": "#95a5a6"}})
    if any(w.high is not None for w in windows):
        data.insert(0, {"type": "scatter", "mode": "lines", "name": "expected high", "x": x,
                        "y": [w.high for w in windows], "line": {"dash": "dot", "color": "#95a5a6"}})
    layout = {"title": {"text": f"{alert.summary or alert.kind}: the windows behind it"},
              "height": 320, "margin": {"t": 40, "l": 50, "r": 10, "b": 40}, "meta": {"empty": not windows}}
    return chart("alert-windows", {"data": data, "layout": layout},
                 description=f"{len(windows)} windows; red points breached the rule")


@scientist_required
def alert_page(request, pk: int):
    alert = get_object_or_404(Alert.objects.select_related("model", "rule", "version", "acknowledged_by"), pk=pk)
    return render(request, "alerts/alert.html", {
        "nav": "alerts", "alert": alert, "events": alert.events.all(), "chart": windows_chart(alert),
        "messages_sent": alert.notifications.order_by("-created_at"),
        "feedback": Feedback.objects.filter(alert=alert), "mine": Feedback.objects.filter(
            alert=alert, rater=request.user.email or request.user.get_username()).first(),
        "precision": rule_precision(rule=alert.rule), "can_admin": user_in(request.user, ADMINS),
    })


@scientist_required
def rules_page(request, slug: str):
    model = get_object_or_404(MLModel, slug=slug)
    rules = [(rule, rule_precision(rule=rule)) for rule in rule_list(model=model)]
    return render(request, "alerts/rules.html", {
        "nav": "alerts", "model": model, "rules": rules, "can_admin": user_in(request.user, ADMINS),
        "floor": PRECISION_FLOOR, "min_ratings": MIN_RATINGS,
    })


@scientist_required
def log_page(request):
    model = _model_or_none(request.GET.get("model", ""))
    page = Paginator(notification_log(model=model, status=request.GET.get("status", "")), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "alerts/log.html", {"nav": "alerts", "page": page})


@scientist_required
def message_page(request, pk: int):
    message = get_object_or_404(Notification.objects.select_related("model"), pk=pk)
    return render(request, "alerts/message.html", {
        "nav": "alerts", "message": message, "attempts": message.attempt_log.all(), "alerts": message.alerts.all(),
    })
