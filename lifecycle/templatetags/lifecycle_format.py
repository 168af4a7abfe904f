from django import template

register = template.Library()


@register.filter
def pvalue(value) -> str:
    """A p-value as people read it: 0.032, 4.1e-07, or < 1e-300 when it underflowed."""
    if value is None:
        return "—"
    value = float(value)
    if value == 0.0:
        return "< 1e-300"
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"
