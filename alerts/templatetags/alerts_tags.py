from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """A metric value with three significant digits; "n/a" when unknown."""
    if value is None or value == "":
        return "n/a"
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)
