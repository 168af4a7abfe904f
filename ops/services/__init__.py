"""Writes of the ops console. Each action writes its audit record in the same transaction."""

from .common import (
    ADDITIVE_MAX,
    ITEM_MAX_LENGTH,
    MULTIPLIER_RANGE,
    REASON_MAX_LENGTH,
    boost_default_days,
    boost_max_days,
    user_can_act,
    user_can_review,
)
from .corrections import decision_correct, parse_outcome
from .overrides import override_blacklist, override_boost, override_revoke, override_snapshot

__all__ = [
    "ADDITIVE_MAX", "ITEM_MAX_LENGTH", "MULTIPLIER_RANGE", "REASON_MAX_LENGTH", "boost_default_days",
    "boost_max_days", "decision_correct", "override_blacklist", "override_boost", "override_revoke",
    "override_snapshot", "parse_outcome", "user_can_act", "user_can_review",
]  # fmt: skip
