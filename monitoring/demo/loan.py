"""Loan default: a binary classifier with every kind of trouble a monitor should see.

- covariate shift in exactly two features (income, credit_score) from day ``SHIFT_DAY``;
- concept shift in the last ``CONCEPT_DAYS`` days: the true default relation changes, so
  accuracy drops while the inputs stay as they were since the covariate shift;
- an upstream bug ``NULL_DAYS_BEFORE_LAST`` days before the scenario's last day (``null_day(days)``:
  day 27 of 30): employment_years is null for ~40% of that day's rows. Close to the end on purpose:
  the daily window after it closed clean before the seed's end, so the alert it fired has resolved,
  and both inside the demo rule's lookback, so the demo users were told of both;
- labels (defaulted or not) arrive 2-5 days after the decision; later ones are not sent yet;
- a shadow version ``SHADOW_VERSION``, retrained on data that follows the changed relation,
  predicts the same requests as production for the last ``SHADOW_DAYS`` days without serving
  them, so the comparison of the two shows the retrained model is better.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import (
    DemoModel,
    DemoShadow,
    Traffic,
    model_inputs,
    model_text,
    prediction_frame,
    split_labels,
    train,
)
from .traffic import DAY, arrival_times, categorical, customers, day_index

SLUG = "loan-default"
VERSION = "2026.1"
SHIFT_DAY = 20
SHIFTED = ("income", "credit_score")
CONCEPT_DAYS = 7
# The last day (today) is still open: the bug's day is the one before yesterday, so the clean day
# that resolves its alert (yesterday) has closed whatever the hour the seed runs.
NULL_DAYS_BEFORE_LAST = 2
NULL_FEATURE = "employment_years"
NULL_SHARE = 0.4
LABEL_DELAY_DAYS = (2.0, 5.0)
THRESHOLD = 0.5
REGIONS = ["north", "south", "east", "west"]
SHADOW_VERSION = "2026.2"
SHADOW_DAYS = 5

SCHEMA = [
    {"name": "income", "type": "numeric", "display_name": "Annual income", "unit": "EUR", "min": 0, "max": 1_000_000, "nullable": False},
    {"name": "debt_to_income", "type": "numeric", "display_name": "Debt-to-income ratio", "unit": "ratio", "min": 0, "max": 1, "nullable": False},
    {"name": "credit_score", "type": "numeric", "display_name": "Credit score", "unit": "", "min": 300, "max": 850, "nullable": False},
    {"name": "loan_amount", "type": "numeric", "display_name": "Loan amount", "unit": "EUR", "min": 500, "max": 200_000, "nullable": False},
    {"name": "loan_term_months", "type": "numeric", "display_name": "Loan term", "unit": "months", "min": 12, "max": 60, "nullable": False},
    {"name": "employment_years", "type": "numeric", "display_name": "Years employed", "unit": "years", "min": 0, "max": 50, "nullable": False},
    {"name": "num_late_payments", "type": "numeric", "display_name": "Late payments (24 months)", "unit": "count", "min": 0, "max": 30, "nullable": False},
    {"name": "age", "type": "numeric", "display_name": "Age", "unit": "years", "min": 18, "max": 90, "nullable": False},
    {"name": "region", "type": "categorical", "display_name": "Region", "unit": "", "categories": REGIONS, "nullable": False},
    {"name": "has_car", "type": "boolean", "display_name": "Owns a car", "unit": "", "nullable": False},
]  # fmt: skip


def null_day(days: int) -> int:
    """The scenario day (counted from 0) of the employment_years null bug."""
    return days - 1 - NULL_DAYS_BEFORE_LAST


def applicants(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Loan applications as they look before any shift."""
    return pd.DataFrame(
        {
            "income": np.round(rng.lognormal(10.8, 0.45, n), -1),
            "debt_to_income": np.round(np.clip(rng.beta(2.2, 6.0, n), 0.01, 0.95), 3),
            "credit_score": np.round(np.clip(rng.normal(680, 60, n), 300, 850)),
            "loan_amount": np.round(np.clip(rng.lognormal(9.6, 0.6, n), 500, 200_000), -1),
            "loan_term_months": rng.choice([12, 24, 36, 48, 60], n, p=[0.15, 0.25, 0.3, 0.15, 0.15]).astype(float),
            "employment_years": np.round(np.clip(rng.gamma(2.0, 3.5, n), 0, 45), 1),
            "num_late_payments": rng.poisson(0.6, n).astype(float),
            "age": np.round(np.clip(rng.normal(42, 12, n), 18, 85)),
            "region": categorical(rng, REGIONS, [0.3, 0.25, 0.25, 0.2], n),
            "has_car": rng.uniform(size=n) < 0.55,
        }
    )


def default_logit(x: pd.DataFrame, *, concept_shift: np.ndarray | bool = False) -> np.ndarray:
    """The true log-odds of default; ``concept_shift`` rows follow the changed relation."""
    employment = np.nan_to_num(x["employment_years"].to_numpy(float), nan=5.0)
    region = x["region"].map({"north": 0.0, "south": 0.25, "east": 0.1, "west": -0.15}).to_numpy(float)
    credit = (x["credit_score"].to_numpy(float) - 680) / 60
    dti = (x["debt_to_income"].to_numpy(float) - 0.27) / 0.14
    income = (np.log(x["income"].to_numpy(float)) - 10.8) / 0.45
    amount = (np.log(x["loan_amount"].to_numpy(float)) - 9.6) / 0.6
    late = x["num_late_payments"].to_numpy(float)
    car = x["has_car"].to_numpy(float)
    term = (x["loan_term_months"].to_numpy(float) - 36) / 12
    before = (-1.35 - 1.0 * credit + 0.8 * dti - 0.55 * income + 0.35 * amount + 0.45 * late
              - 0.25 * car - 0.06 * np.minimum(employment, 10) + region + 0.1 * term)  # fmt: skip
    # After the change (say, a new lending product), credit scores and incomes no longer protect
    # and debt load and loan size weigh more. Strong enough that the model's accuracy falls twelve
    # points below what its (calibrated) scores promise: a daily window of 500 labels shows it
    # beyond three standard errors.
    after = (-0.5 + 1.0 * credit + 2.4 * dti + 0.8 * income + 1.2 * amount + 0.2 * late
             + 0.3 * car + 0.02 * np.minimum(employment, 10) - region + 0.35 * term)  # fmt: skip
    return np.where(concept_shift, after, before)


def shifted_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The covariate shift: lower incomes and credit scores."""
    out = frame.copy()
    out["income"] = np.round(out["income"] * 0.72, -1)
    out["credit_score"] = np.clip(out["credit_score"] - 55, 300, 850)
    return out


def train_shadow(*, n_train: int, seed: int):
    """The retrained model (inputs and outcomes as after both shifts) and its reference sample.
    Its own generator: production's data stays as it was."""
    rng = np.random.default_rng(seed + 1)
    history = shifted_inputs(applicants(rng, n_train))
    defaulted = (rng.uniform(size=n_train) < 1 / (1 + np.exp(-default_logit(history, concept_shift=True)))).astype(int)
    holdout = n_train // 4
    model = train(history.iloc[holdout:], defaulted[holdout:], SCHEMA, task="classifier", seed=seed + 1)
    reference = history.iloc[:holdout].reset_index(drop=True)
    reference["score"] = np.round(model.predict_proba(model_inputs(reference, SCHEMA))[:, 1], 6)
    reference["label"] = defaulted[:holdout]
    return model, reference


@dataclass
class LoanStream:
    """Loan applications and their outcomes on any day of the scenario, counted from ``start``.

    Days past the scenario's last one are like its last day: shifted inputs, the changed default
    relation, no null bug, the shadow version logging next to production.
    """

    model: object
    shadow_model: object
    start: pd.Timestamp
    days: int
    scale: float
    label_delay: pd.Timedelta = pd.Timedelta(days=LABEL_DELAY_DAYS[1])

    @property
    def per_day(self) -> float:
        return 2000 * self.scale

    def requests(self, rng: np.random.Generator, times: pd.Series, tag: str = "") -> Traffic:
        # Past the scenario's last day, requests stay as on that day (the live feed's rows).
        day = np.minimum(day_index(times, self.start), self.days - 1)
        n = len(times)
        served = applicants(rng, n)
        shifted = day >= SHIFT_DAY
        served.loc[shifted, "income"] = np.round(served.loc[shifted, "income"] * 0.72, -1)
        served.loc[shifted, "credit_score"] = np.clip(served.loc[shifted, "credit_score"] - 55, 300, 850)
        broken = (day == null_day(self.days)) & (rng.uniform(size=n) < NULL_SHARE)
        served.loc[broken, NULL_FEATURE] = np.nan

        score = np.round(self.model.predict_proba(model_inputs(served, SCHEMA))[:, 1], 6)
        concept = day >= self.days - CONCEPT_DAYS
        outcome = (rng.uniform(size=n) < 1 / (1 + np.exp(-default_logit(served, concept_shift=concept)))).astype(int)
        predictions = prediction_frame(
            f"loan-{tag}",
            times,
            VERSION,
            served,
            score=score,
            prediction=(score >= THRESHOLD).astype(int),
            entity_id=customers(rng, n, pool=max(500, int(30000 * self.scale)), prefix="cust-"),
            segment=categorical(rng, ["web", "branch", "partner"], [0.6, 0.25, 0.15], n),
        )
        arrival = times + pd.to_timedelta(rng.uniform(*LABEL_DELAY_DAYS, n), unit="D")
        labels = pd.DataFrame({"request_id": predictions["request_id"], "label": outcome, "timestamp": arrival})

        live = day >= self.days - SHADOW_DAYS
        shadow_score = np.round(self.shadow_model.predict_proba(model_inputs(served.loc[live], SCHEMA))[:, 1], 6)
        logged = predictions.loc[live].copy()
        logged["version"] = SHADOW_VERSION
        logged["score"] = shadow_score
        logged["prediction"] = (shadow_score >= THRESHOLD).astype(int)
        return Traffic(predictions=predictions, labels=labels, shadow=logged.reset_index(drop=True))


def build(*, now: pd.Timestamp, days: int, scale: float, seed: int = 42) -> DemoModel:
    rng = np.random.default_rng(seed)
    # Scenario days are UTC days (the monitor's daily windows): the last one is today, up to
    # ``now``. Days counted from ``now`` would cut the concept shift's first day in two windows at
    # a place that depends on the hour the seed runs, and the alerts with it.
    start = (now - days * DAY).ceil("D")

    n_train = int(max(3000, 16000 * min(scale, 1.0)))
    history = applicants(rng, n_train)
    defaulted = (rng.uniform(size=n_train) < 1 / (1 + np.exp(-default_logit(history)))).astype(int)
    holdout = n_train // 4
    model = train(history.iloc[holdout:], defaulted[holdout:], SCHEMA, task="classifier", seed=seed)

    reference = history.iloc[:holdout].reset_index(drop=True)
    reference["score"] = np.round(model.predict_proba(model_inputs(reference, SCHEMA))[:, 1], 6)
    reference["label"] = defaulted[:holdout]

    shadow_model, shadow_reference = train_shadow(n_train=n_train, seed=seed)
    stream = LoanStream(model=model, shadow_model=shadow_model, start=start, days=days, scale=scale)
    times = arrival_times(rng, start=start, days=days, per_day=stream.per_day)
    traffic = stream.requests(rng, times[times <= now].reset_index(drop=True))
    labels, later_labels = split_labels(traffic.labels, now)
    trained_from = start + (days - CONCEPT_DAYS) * DAY

    return DemoModel(
        slug=SLUG,
        name="Loan default",
        task="binary_classification",
        description="Probability that a personal-loan applicant defaults within 12 months (simulated).",
        version=VERSION,
        features=SCHEMA,
        threshold=THRESHOLD,
        predictions=traffic.predictions,
        labels=labels,
        later_labels=later_labels,
        reference=reference,
        metadata={
            "score_label": "the default risk",
            "algorithm": "LightGBM LGBMClassifier",
            "hyperparameters": model.get_params(),
            "training_rows": n_train - holdout,
            "training_period": f"{(start - 120 * DAY).date()} to {(start - DAY).date()}",
            "code": "monitoring/demo/loan.py",
            "scenario": {
                "start": start.isoformat(),
                "days": days,
                # What the live feed needs to continue the scenario where the seed left it.
                "end": now.isoformat(),
                "scale": scale,
                "covariate_shift": {"from_day": SHIFT_DAY, "features": list(SHIFTED)},
                "concept_shift_last_days": CONCEPT_DAYS,
                "null_day": null_day(days),
                "null_feature": NULL_FEATURE,
                "label_delay_days": list(LABEL_DELAY_DAYS),
            },
        },
        artifact=model_text(model),
        artifact_format="lightgbm",
        shadow=DemoShadow(
            version=SHADOW_VERSION,
            metadata={
                "score_label": "the default risk",
                "algorithm": "LightGBM LGBMClassifier",
                "hyperparameters": shadow_model.get_params(),
                "training_rows": n_train - n_train // 4,
                "training_period": f"{trained_from.date()} to {(start + (days - SHADOW_DAYS) * DAY - DAY).date()}",
                "code": "monitoring/demo/loan.py",
                "note": "Retrained after the concept shift; logs in shadow next to production.",
            },
            reference=shadow_reference,
            predictions=traffic.shadow,
            artifact=model_text(shadow_model),
            artifact_format="lightgbm",
        ),
        stream=stream,
    )
