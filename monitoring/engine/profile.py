"""A reference profile as the engine uses it: the fold layout plus reference counts and sample."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitoring.engine.sketch_build import SCORE, FeatureLayout, Layout
from monitoring.engine.sketch_codec import unpack
from monitoring.engine.stats.binning import coarse_groups


@dataclass
class Profile:
    """A loaded ReferenceProfile: the fold layout plus reference counts and sample."""

    id: int
    layout: Layout
    arrays: dict[str, np.ndarray]
    spec: dict
    generation: int = 1  # bumped by every rebuild; sketches are tagged with the one they were binned with
    _groups: dict = field(default_factory=dict)

    def ref(self, key: str) -> np.ndarray | None:
        return self.arrays.get(f"ref:{key}")

    def groups(self, key: str) -> np.ndarray:
        """Coarse PSI/JS groups of a numeric feature's reference bins (computed once)."""
        if key not in self._groups:
            self._groups[key] = coarse_groups(self.arrays[f"ref:{key}"])
        return self._groups[key]


def profile_decode(*, pk: int, data: bytes, spec: dict, generation: int = 1) -> Profile:
    """A profile from its stored parts: the packed arrays blob and the JSON spec."""
    arrays, _ = unpack(data)
    features = [
        FeatureLayout(
            name=f["name"],
            kind=f["kind"],
            edges=arrays.get(f"edges:{f['name']}"),
            categories=f["categories"],
            lo=f["lo"],
            hi=f["hi"],
        )
        for f in spec["features"]
    ]
    layout = Layout(
        task=spec["task"],
        threshold=spec["threshold"],
        features=features,
        score_edges=arrays.get(f"edges:{SCORE}"),
        classes=spec["classes"],
        label_edges=arrays.get("edges:__label__"),
    )
    mv = spec.get("multivariate")
    if mv:  # lists -> arrays once, not on every window
        mv["model"] = {k: np.asarray(v) if isinstance(v, list) else v for k, v in mv["model"].items()}
    return Profile(id=pk, layout=layout, arrays=arrays, spec=spec, generation=generation)
