from .data import Label, Prediction, ReferenceRow
from .registry import MLModel, ModelVersion
from .results import AnalysisResult
from .sketches import Granularity, ReferenceProfile, SketchPartial, TrackedSegment, WindowSketch

__all__ = [
    "AnalysisResult",
    "Granularity",
    "Label",
    "MLModel",
    "ModelVersion",
    "Prediction",
    "ReferenceProfile",
    "ReferenceRow",
    "SketchPartial",
    "TrackedSegment",
    "WindowSketch",
]
