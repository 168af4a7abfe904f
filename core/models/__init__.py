from .tokens import ApiToken

__all__ = ["ApiToken"]
