"""PostgreSQL advisory locks, named in one place.

Every lock is the two-key form ``(space, key)``: the first key says what is locked (one
``LockSpace`` member per use, so two uses never collide), the second which one (a model, a
version, an item). All are transaction-level: they end with the transaction.
"""

from __future__ import annotations

from enum import IntEnum

from django.db import connection


class LockSpace(IntEnum):
    # Values are the ones in use before they were gathered here, so a rolling deploy
    # never has old and new code locking under different keys.
    LABEL_FOLD = 0x56474C  # "VGL": label vs prediction folds of one model (shared/exclusive)
    VERSION_ANALYSIS = 0x56474D  # "VGM": the scheduled analysis of one version
    TRACKED_SEGMENTS = 0x564753  # "VGS": adding tracked segments, per model
    PROFILE_REBUILD = 0x564752  # "VGR": re-folding one version's sketches for its current profile
    LABEL_WRITE = 7301  # label upserts of one model (the old value read is the one replaced)
    ALERT_EVALUATION = 0x564741  # "VGA": alert evaluation of one version
    OPS_ITEM = 6_000_001  # ops console writes about one item (key: hashtext of the item id)
    RAW_PARTITIONS = 0x564750  # "VGP": creating, detaching or dropping partitions of a raw table (key: table)


def advisory_lock(space: LockSpace, key: int | str, *, shared: bool = False) -> None:
    """Wait for the lock ``(space, key)``; a ``str`` key is hashed by PostgreSQL (hashtext)."""
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cur:
        cur.execute(f"SELECT {fn}(%s, {_key_sql(key)})", [int(space), _key(key)])


def advisory_lock_try(space: LockSpace, key: int | str) -> bool:
    """Take the lock ``(space, key)`` if free; False (without waiting) when another holds it."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT pg_try_advisory_xact_lock(%s, {_key_sql(key)})", [int(space), _key(key)])
        return bool(cur.fetchone()[0])


def _key(key: int | str) -> int | str:
    return key if isinstance(key, str) else int(key)


def _key_sql(key: int | str) -> str:
    return "hashtext(%s)" if isinstance(key, str) else "%s"
