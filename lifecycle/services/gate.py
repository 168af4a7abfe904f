"""The promotion gate: may ``candidate`` replace ``baseline`` (production)? Stored with its evidence.

Checks, each pass / fail / inconclusive:
- ``paired_requests``: at least the policy's minimum of requests both versions predicted;
- ``label_maturity``: at least the policy's minimum of those requests labelled;
- ``metric_change``: the lower end of the anytime-valid 95% sequence of the change of the
  per-request metric (accuracy of the decisions; regression: minus the absolute error),
  candidate - production, above minus the model's margin (the gate may be asked daily, so the
  bound must hold at every look);
- ``roc_auc_change`` (binary models, whose primary metric is ROC AUC): the paired DeLong test
  at the margin, one-sided: pass when non-inferior, fail when significantly worse by more than
  the margin, else inconclusive (an AUC has no standard anytime-valid sequence, hence both);
- ``no_critical_alert``: monitoring's verdict on the candidate is not critical (alert rules
  plug in here when the alerts app exists);
- ``data_quality``: the candidate's worst null / out-of-range / unseen-category rate of its last
  analysed days below the model's quality limit.
Any fail -> fail; else any inconclusive -> inconclusive; else pass.
"""

from __future__ import annotations

from lifecycle.models import GateEvaluation, GateOutcome
from lifecycle.selectors.comparison import comparison_get, rules_for
from lifecycle.selectors.health import version_health
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.registry import version_production

PASS, FAIL, INCONCLUSIVE = GateOutcome.PASS.value, GateOutcome.FAIL.value, GateOutcome.INCONCLUSIVE.value


def _check(name: str, outcome: str, summary: str, **evidence) -> dict:
    return {"name": name, "outcome": outcome, "summary": summary, "evidence": evidence}


def comparison_checks(*, comparison: dict, margin: float, min_pairs: int, min_labels: int,
                      task: str, ranking_changes: bool = True) -> list[dict]:
    """The checks read from a comparison. ``ranking_changes`` false (a threshold change: same
    scores) leaves out the ROC AUC check, which could only compare a ranking with itself."""
    n, labelled = comparison["paired"], comparison["labelled"]
    enough = labelled >= min_labels and n >= min_pairs
    checks = [
        _check("paired_requests", PASS if n >= min_pairs else INCONCLUSIVE,
               f"{n} requests predicted by both versions (minimum {min_pairs}).", paired=n, minimum=min_pairs),
        _check("label_maturity", PASS if labelled >= min_labels else INCONCLUSIVE,
               f"{labelled} of them labelled (minimum {min_labels}).", labelled=labelled, minimum=min_labels),
    ]
    change = comparison.get("change")
    if change is None or not enough:
        checks.append(_check("metric_change", INCONCLUSIVE, "Not enough labelled pairs to bound the change.",
                             change=change))
    else:
        ok = change["low"] > -margin
        checks.append(_check(
            "metric_change", PASS if ok else FAIL,
            f"{change['metric']} change {change['value']:+.4f}, anytime-valid 95% lower bound {change['low']:+.4f} "
            f"{'above' if ok else 'not above'} -{margin:g}.",
            change=change, margin=margin))
    if task == "binary_classification" and ranking_changes:
        checks.append(_auc_check(comparison.get("roc_auc_difference"), enough=enough, margin=margin))
    return checks


def _auc_check(auc: dict | None, *, enough: bool, margin: float) -> dict:
    if auc is None or not enough:
        why = "Not enough labelled pairs" if not enough else "Both classes need two labelled pairs"
        return _check("roc_auc_change", INCONCLUSIVE, f"{why} to test the ROC AUC change.", roc_auc_difference=auc)
    t = auc["margin_test"]
    said = {PASS: f"one-sided 95% lower bound {t['lower']:+.4f} above -{margin:g}",
            FAIL: f"significantly worse: one-sided 95% upper bound {t['upper']:+.4f} below -{margin:g}",
            INCONCLUSIVE: f"one-sided 95% bounds {t['lower']:+.4f} to {t['upper']:+.4f} straddle -{margin:g}"}
    return _check("roc_auc_change", t["outcome"],
                  f"ROC AUC (primary metric) change {auc['value']:+.4f} (paired DeLong): {said[t['outcome']]}.",
                  roc_auc_difference=auc, margin=margin)


def health_checks(*, candidate: ModelVersion) -> list[dict]:
    state = version_health(version=candidate)
    health = state.health
    alerts = "; ".join(state.critical_alerts) or "none"
    checks = [_check(
        "no_critical_alert", FAIL if health.status == "critical" or state.critical_alerts else PASS,
        f"Monitoring's verdict on {candidate.version}: {health.status} ({health.reason_text}). "
        f"Critical alerts firing: {alerts}.",
        status=health.status, reasons=health.reasons, windows=state.windows, alerts=state.critical_alerts,
    )]
    if state.windows == 0:
        checks.append(_check("data_quality", INCONCLUSIVE, "No analysed day of the candidate yet.", windows=0))
    else:
        rate, kind, feature = state.worst_quality or (0.0, None, None)
        ok = rate < state.quality_limit
        checks.append(_check(
            "data_quality", PASS if ok else FAIL,
            f"Worst data-quality rate {100 * rate:.1f}%" + (f" ({kind} of {feature})" if feature else "")
            + f", limit {100 * state.quality_limit:.0f}%.",
            rate=rate, kind=kind, feature=feature, limit=state.quality_limit, windows=state.windows))
    return checks


def outcome_of(checks: list[dict]) -> str:
    outcomes = {c["outcome"] for c in checks}
    return FAIL if FAIL in outcomes else INCONCLUSIVE if INCONCLUSIVE in outcomes else PASS


def gate_evaluate(*, model: MLModel, candidate: ModelVersion, baseline: ModelVersion | None = None) -> GateEvaluation:
    """Run the gate for promoting ``candidate`` over ``baseline`` (default: production) and store it."""
    baseline = baseline or version_production(model=model)
    rules = rules_for(model=model)
    checks: list[dict] = []
    if baseline is None or baseline.pk == candidate.pk:
        summary = "No production version to compare with." if baseline is None else "Already in production."
        checks.append(_check("baseline", PASS if baseline is None else FAIL, summary))
    else:
        comparison = comparison_get(model=model, a=baseline, b=candidate)
        checks += comparison_checks(comparison=comparison, margin=rules.margin, min_pairs=rules.min_pairs,
                                    min_labels=rules.min_labels, task=model.task)
    checks += health_checks(candidate=candidate)
    return GateEvaluation.objects.create(model=model, candidate=candidate, baseline=baseline,
                                         outcome=outcome_of(checks), checks=checks)
