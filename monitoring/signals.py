"""Signals other apps may listen to (monitoring imports none of them).

``windows_analysed``: sent after the transaction that stored a version's analysis results
commits, with ``version_id`` and ``windows``: the (granularity, segment, window_start) keys
just (re)computed. The alerts evaluate their rules on these windows
(monitoring.selectors.health.window_conditions).

``production_set``: sent inside the transaction that made ``version`` production through the
registry (``actor``: who asked; ``previous``: the production version it replaced, or None for a
model's first). The registry does this for a model's first production version and for a new
version registered straight into production; every other change of production goes through
the lifecycle's promotion and rollback. The lifecycle records it in its timeline, in the same
transaction.
"""

from django.dispatch import Signal

windows_analysed = Signal()
production_set = Signal()
