import re

import numpy as np
import pytest
from django.core.management import call_command

from monitoring.services import compaction

from .engine_factories import T0, batch, draw, make_version, store_predictions, store_reference

pytestmark = pytest.mark.django_db


def test_the_windows_progress_bar_counts_what_is_analysed(capsys):
    """Issue 10: the bar said 0/757 while 2978 windows were analysed (segments, days)."""
    version = make_version()
    store_reference(version)
    d = draw(600, np.random.default_rng(3))
    store_predictions(version, batch(d, start=T0, hours=30, segments=["web", "branch"] * 300))
    compaction.sketches_compact_all()
    call_command("compute_metrics", model=version.model.slug)
    captured = capsys.readouterr()
    done = int(re.search(r"(\d+) windows analysed", captured.out)[1])
    totals = {int(m[2]) for m in re.finditer(r"windows: .*?(\d+)/(\d+)", captured.err)}
    finals = [int(m[1]) for m in re.finditer(r"windows: .*?(\d+)/(\d+)", captured.err)]
    assert done > 31  # hours and days of all rows and of both segments
    assert totals == {done}
    assert finals[-1] == done
