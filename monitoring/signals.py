"""Signals other apps may listen to (monitoring imports none of them).

``windows_analysed``: sent after the transaction that stored a version's analysis results
commits, with ``version_id`` and ``windows``: the (granularity, segment, window_start) keys
just (re)computed. The alerts evaluate their rules on these windows
(monitoring.selectors.health.window_conditions).
"""

from django.dispatch import Signal

windows_analysed = Signal()
