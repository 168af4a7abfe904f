"""Vigil's Python client: send predictions, labels and reference data from pandas.

Needs only requests, numpy and pandas (no Django), so serving systems and notebooks can
import it on their own::

    from client import VigilClient
    vigil = VigilClient("http://127.0.0.1:8000", token="vgl_...")
    counts = vigil.send_predictions("loan-default", frame)
"""

from .errors import VigilError
from .http import VigilClient

__all__ = ["VigilClient", "VigilError"]
