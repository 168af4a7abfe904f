"""Plain-language reasons for agents: the top factors that pushed a score up and down.

A sentence reads "Debt to income = 0.63 raised the default risk by 9 points". Display names
and units come from the version's schema (``display_name``, ``unit``); what the score means
comes from the version's ``metadata["score_label"]`` (e.g. "the default risk"), else from the
model's ``settings["score_label"]``, else "the predicted probability" / "the predicted value".
"""

from monitoring.models import ModelVersion


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_value(value, feature: dict) -> str:
    """A feature value as an agent reads it, with its unit."""
    if value is None:
        return "missing"
    if isinstance(value, bool) or feature.get("type") == "boolean":
        return "yes" if value in (True, 1, "true", "True") else "no"
    if isinstance(value, int | float):
        text = _number(float(value))
        unit = feature.get("unit")
        if unit:
            return f"{text}{unit}" if unit in ("%", "°") else f"{text} {unit}"
        return text
    return str(value)


def _effect(contribution: dict, classifier: bool) -> str:
    if classifier and contribution.get("probability_points") is not None:
        points = abs(contribution["probability_points"])
        if points >= 0.95:
            return f"{points:.0f} point{'s' if round(points) != 1 else ''}"
        return f"{points:.1f} points"
    return _number(abs(contribution["shap"]))


def score_label(version: ModelVersion, classifier: bool) -> str:
    label = (version.metadata or {}).get("score_label") or (version.model.settings or {}).get("score_label")
    return label or ("the predicted probability" if classifier else "the predicted value")


def sentence(contribution: dict, feature: dict, label: str, classifier: bool) -> str:
    name = feature.get("display_name") or contribution["feature"]
    verb = "raised" if contribution["shap"] > 0 else "lowered"
    return f"{name} = {format_value(contribution['value'], feature)} {verb} {label} by {_effect(contribution, classifier)}"


def reasons_for(*, explanation, version: ModelVersion, top: int = 3) -> dict:
    """``{"up": [sentence...], "down": [sentence...], "summary": str}`` for one explanation."""
    schema = {f["name"]: f for f in version.features}
    classifier = explanation.probability is not None or any(
        c.get("probability_points") is not None for c in explanation.contributions
    )
    label = score_label(version, classifier)
    ranked = [c for c in explanation.contributions if c["shap"] != 0]
    up = [c for c in ranked if c["shap"] > 0][:top]
    down = [c for c in ranked if c["shap"] < 0][:top]
    up_text = [sentence(c, schema.get(c["feature"], {}), label, classifier) for c in up]
    down_text = [sentence(c, schema.get(c["feature"], {}), label, classifier) for c in down]
    return {"up": up_text, "down": down_text, "summary": _summary(explanation, label, up, down, schema)}


def _summary(explanation, label: str, up: list[dict], down: list[dict], schema: dict) -> str:
    def names(items: list[dict]) -> str:
        return ", ".join(schema.get(c["feature"], {}).get("display_name") or c["feature"] for c in items)

    if explanation.probability is not None:
        head = (f"{label[0].upper()}{label[1:]} is {explanation.probability:.0%} against an average of "
                f"{explanation.base_probability:.0%}.")
    elif any(c.get("probability_points") is not None for c in explanation.contributions):
        total = sum(c["shap"] for c in explanation.contributions)
        head = (f"{label[0].upper()}{label[1:]} is {explanation.output:.0%} against an average of "
                f"{explanation.output - total:.0%}.")
    else:
        head = (f"{label[0].upper()}{label[1:]} is {_number(explanation.output)} against an average of "
                f"{_number(explanation.base_value)}.")
    parts = [head]
    if up:
        parts.append(f"Main factors raising it: {names(up)}.")
    if down:
        parts.append(f"Main factors lowering it: {names(down)}.")
    return " ".join(parts)
