"""Serializer fields that take JSON types at their word.

DRF's CharField turns 12 into "12" and FloatField turns true into 1.0; an API whose
clients are programs should say the value has the wrong type instead.
"""

import math

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_string": "Expected a string, got {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string", kind=type(data).__name__)
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    default_error_messages = {"not_string": "Expected a string, got {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string", kind=type(data).__name__)
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a boolean, not a string), finite."""

    default_error_messages = {"not_number": "Expected a finite number, got {kind}."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_number", kind=type(data).__name__)
        if not math.isfinite(data):
            self.fail("not_number", kind="a non-finite number")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a boolean, a float or a string)."""

    default_error_messages = {"not_integer": "Expected a whole number, got {kind}."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer", kind=type(data).__name__)
        return super().to_internal_value(data)
