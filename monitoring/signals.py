"""Signals other apps may listen to (monitoring imports none of them).

``windows_analysed``: sent after the transaction that stored a version's analysis results
commits, with ``version_id`` and ``windows``: the (granularity, segment, window_start) keys
just (re)computed. The alerts evaluate their rules on these windows
(monitoring.selectors.health.window_conditions).

``production_set``: sent inside the transaction that made ``version`` the first production
version of its model through the registry (``actor``: who asked). Every later change of
production goes through the lifecycle's promotion and rollback; the lifecycle records this
one in its timeline, in the same transaction.
"""

from django.dispatch import Signal

windows_analysed = Signal()
production_set = Signal()
