"""Typed action parameters: the schema the taxonomy declares and the one function that checks it."""

from core.parameters.schema import ParamSpec, ParamType
from core.parameters.validation import screen_params, validate_params

__all__ = ["ParamSpec", "ParamType", "screen_params", "validate_params"]
