"""Tiny helpers that read deployment settings from the environment.

A value that cannot be read raises ImproperlyConfigured naming the variable: a typo such as
``DEBUG=ture`` must stop the start, not quietly become False.
"""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: str = "False") -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.getenv(name)!r} is not a boolean: use one of {', '.join(sorted(TRUE | FALSE - {''}))}."
    )


def _number(name: str, default: str, kind: type):
    raw = os.getenv(name, default)
    try:
        return kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {'an integer' if kind is int else 'a number'}.") from None


def envint(name: str, default: str) -> int:
    return _number(name, default, int)


def envfloat(name: str, default: str) -> float:
    return _number(name, default, float)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]
