from django import forms

from .models import KINDS


class AlertFilterForm(forms.Form):
    model = forms.CharField(required=False)
    severity = forms.ChoiceField(required=False, choices=[("", "any"), ("critical", "critical"),
                                                          ("warning", "warning"), ("info", "info")])
    state = forms.ChoiceField(required=False, choices=[("", "any"), ("firing", "firing"), ("pending", "pending"),
                                                       ("resolved", "resolved"), ("no_data", "no data")])


class RuleForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=[(k, k) for k in KINDS])
    granularity = forms.ChoiceField(choices=[("hour", "hour"), ("day", "day")])
    threshold_op = forms.ChoiceField(required=False, choices=[("learned", "learned"), (">", ">"), ("<", "<")])
    threshold_value = forms.FloatField(required=False)
    for_windows = forms.IntegerField(min_value=1, max_value=100, initial=2)
    keep_firing_for = forms.IntegerField(min_value=1, max_value=100, initial=1)
    lookback_hours = forms.IntegerField(min_value=1, max_value=2160, initial=48)
    severity = forms.ChoiceField(choices=[("critical", "critical"), ("warning", "warning"), ("info", "info")])
    recipients = forms.CharField(required=False, help_text="Comma-separated: addresses, user:NAME, group:NAME, subscribers")
    features = forms.CharField(required=False, help_text="Comma-separated feature names (empty: all)")
    segments = forms.CharField(required=False, help_text='Segments judged besides all rows: "all" or comma-separated '
                               "names (empty: all rows only)")
    webhook = forms.URLField(required=False)
    webhook_format = forms.ChoiceField(choices=[("json", "Generic JSON (signed)"), ("slack", "Slack")])
    enabled = forms.BooleanField(required=False, initial=True)

    def clean(self):
        data = super().clean()
        op = data.get("threshold_op") or "learned"
        if op != "learned" and data.get("threshold_value") is None:
            self.add_error("threshold_value", "A number is needed with > or <.")
        return data

    def rule_data(self) -> dict:
        d = self.cleaned_data
        op = d.get("threshold_op") or "learned"

        def split(text: str) -> list[str]:
            return [x.strip() for x in (text or "").split(",") if x.strip()]

        return {
            "name": d["name"], "kind": d["kind"], "granularity": d["granularity"],
            "threshold": "learned" if op == "learned" else {"op": op, "value": d["threshold_value"]},
            "for_windows": d["for_windows"], "keep_firing_for": d["keep_firing_for"],
            "lookback_hours": d["lookback_hours"], "severity": d["severity"], "recipients": split(d["recipients"]),
            "features": split(d["features"]), "webhook": d.get("webhook") or "",
            "segments": True if (d.get("segments") or "").strip() == "all" else split(d.get("segments")) or False,
            "webhook_format": d["webhook_format"], "enabled": bool(d.get("enabled")),
        }

    @staticmethod
    def initial_for(rule) -> dict:
        t = rule.threshold
        return {
            "name": rule.name, "kind": rule.kind, "granularity": rule.granularity,
            "threshold_op": "learned" if t == "learned" else t["op"],
            "threshold_value": None if t == "learned" else t["value"],
            "for_windows": rule.for_windows, "keep_firing_for": rule.keep_firing_for,
            "lookback_hours": rule.lookback_hours, "severity": rule.severity,
            "recipients": ", ".join(rule.recipients), "features": ", ".join(rule.features),
            "segments": "all" if rule.segments is True else ", ".join(rule.segments or []),
            "webhook": rule.webhook, "webhook_format": rule.webhook_format, "enabled": rule.enabled,
        }


class SilenceForm(forms.Form):
    model = forms.SlugField()
    until = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 08:00")
    reason = forms.CharField(max_length=500)
    rule = forms.IntegerField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "any")] + [(k, k) for k in KINDS])
