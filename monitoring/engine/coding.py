"""Decisions and labels as numbers, so paired comparisons read float columns instead of JSON."""

NUMBER = (int, float)


def numeric_codes(values: list, classes: list | None = None) -> list[float | None]:
    """One float (or None) per value: with ``classes`` (a multiclass model's, in the model's
    order) the 0-based position of the class whose text equals the value's; otherwise numbers
    as they are and booleans as 0/1. None for anything else (absent, unknown class, text)."""
    if classes is not None:
        position = {str(c): float(i) for i, c in enumerate(classes)}
        return [None if v is None else position.get(str(v)) for v in values]
    kinds = set(map(type, values))
    if kinds <= {int, float}:
        return [float(v) for v in values]
    return [float(v) if type(v) in NUMBER or type(v) is bool else None for v in values]
