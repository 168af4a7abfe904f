"""Applying active overrides to a list of scored candidates: plain dicts, one pass, no database."""

import math
import sys
from dataclasses import dataclass, field
from datetime import datetime

# JSON has no infinity: a boosted score that overflows is held at the largest finite float, which
# keeps its place at the top (or bottom) of the ranking.
_LARGEST = sys.float_info.max


@dataclass(frozen=True)
class ActiveOverrides:
    """The overrides in force for one model at one instant, indexed by item_id.

    ``blacklist``: item -> {"id", "scope": "model"|"all", "expires_at", "reason"}.
    ``boosts``: item -> {"id", "mode": "multiplier"|"additive", "value", "starts_at", "ends_at", "reason"}.
    Entries may carry "text", the reason sentence worked out once when the snapshot is built.
    """

    blacklist: dict[str, dict] = field(default_factory=dict)
    boosts: dict[str, dict] = field(default_factory=dict)


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def blacklist_reason(entry: dict) -> str:
    scope = "all models" if entry["scope"] == "all" else "this model"
    until = f" until {_stamp(entry['expires_at'])}" if entry["expires_at"] else ""
    return f"blacklisted for {scope}{until}: {entry['reason']}"


def boost_reason(entry: dict) -> str:
    amount = f"x{entry['value']:g}" if entry["mode"] == "multiplier" else f"{entry['value']:+g}"
    return f"boost {amount} until {_stamp(entry['ends_at'])}: {entry['reason']}"


def apply_overrides(
    candidates: list[tuple[str, float]], active: ActiveOverrides
) -> tuple[list[dict], list[dict]]:
    """Rerank ``candidates`` ([(item_id, score)], any order).

    Blacklisted items are dropped (into ``removed``); boosted ones get ``score * value`` (multiplier)
    or ``score + value`` (additive), held within the finite floats. The rest keep their score.
    Output is sorted by new score, descending; ties keep their original rank (original rank = order
    by original score, ties in input order). Returns (candidates, removed) in the API's shape.
    """
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i][1])
    original_rank = [0] * len(candidates)
    for rank, index in enumerate(order, start=1):
        original_rank[index] = rank
    blacklist, boosts = active.blacklist, active.boosts
    kept: list[dict] = []
    removed: list[dict] = []
    for index, (item_id, score) in enumerate(candidates):
        banned = blacklist.get(item_id)
        if banned is not None:
            removed.append({"item_id": item_id, "reason": banned.get("text") or blacklist_reason(banned)})
            continue
        boost = boosts.get(item_id)
        new_score, reason = score, None
        if boost is not None:
            value = boost["value"]
            new_score = score * value if boost["mode"] == "multiplier" else score + value
            if not math.isfinite(new_score):
                new_score = math.copysign(_LARGEST, new_score)
            reason = boost.get("text") or boost_reason(boost)
        kept.append(
            {
                "item_id": item_id,
                "score": new_score,
                "original_score": score,
                "rank": 0,
                "original_rank": original_rank[index],
                "reason": reason,
            }
        )
    kept.sort(key=lambda c: (-c["score"], c["original_rank"]))
    for rank, candidate in enumerate(kept, start=1):
        candidate["rank"] = rank
    return kept, removed
