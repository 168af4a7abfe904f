"""Reading artifact bytes into a model object, safely, with a per-process cache by sha256.

Only formats that cannot run code are loaded freely. skops is loaded with an explicit list
of trusted types; pickle/joblib are opened only when an admin has trusted that exact sha256
beforehand. Nothing here unpickles a file to find out what it is.
"""

import hashlib
import os
import shutil
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.conf import settings

from .models import ArtifactFormat, TrustedArtifactHash

# Module prefixes of classes skops may instantiate; functions (which a FunctionTransformer
# would call) and everything else are refused by name.
SKOPS_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")
PICKLE_FORMATS = (ArtifactFormat.PICKLE, ArtifactFormat.JOBLIB)
_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 16
CHUNK = 1024 * 1024
_CACHE_LOCK = threading.Lock()  # threaded web workers share the cache


class ArtifactRefused(Exception):
    """The file cannot be accepted; ``str(exc)`` is the sentence for the user."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors or {}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: str) -> tuple[str, int]:
    """(sha256, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _contains(path: str, needle: bytes) -> bool:
    """Whether the file holds ``needle``, scanned in overlapping chunks (never read whole)."""
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle):]
    return False


def detect_format(path: str) -> str:
    """Guess the format of the file at ``path`` from its first bytes; pickle is never guessed into being loaded."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"tree\nversion=") or head.startswith(b"tree\r\nversion="):
        return ArtifactFormat.LIGHTGBM
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "schema.json" in archive.namelist():
                    return ArtifactFormat.SKOPS
        except zipfile.BadZipFile:
            pass
        raise ArtifactRefused("The file is a zip archive but not a skops file (no schema.json).")
    stripped = head.lstrip()
    if stripped.startswith(b"{\""):
        # XGBoost's loader checks the whole document; here only that it names a learner.
        if _contains(path, b'"learner"'):
            return ArtifactFormat.XGBOOST_JSON
        raise ArtifactRefused("The file is JSON but not an XGBoost model (no 'learner' key).")
    if head.startswith(b"{"):
        return ArtifactFormat.XGBOOST_UBJ
    if head[:1] == b"\x80":
        raise ArtifactRefused(
            "The file looks like a pickle. Pickles run code when loaded: name the format "
            "(?format=pickle or joblib) and have an admin trust its sha256 first.",
            {"format": ["Pickle files are only accepted by explicit format and trusted sha256."]},
        )
    raise ArtifactRefused(
        "Unrecognised model file: send LightGBM text, XGBoost JSON/UBJSON, a skops file, "
        "or a trusted pickle/joblib with ?format=.",
        {"format": ["Could not detect the format."]},
    )


def _trusted_skops_type(name: str) -> bool:
    """A class (not a function) from scikit-learn, numpy or scipy.sparse; resolved without loading the file."""
    import importlib

    if not name.startswith(SKOPS_TRUSTED_PREFIXES):
        return False
    module, _, attr = name.rpartition(".")
    try:
        return isinstance(getattr(importlib.import_module(module), attr), type)
    except (ImportError, AttributeError):
        return False


def _load_uncached(path: str, fmt: str, sha256: str) -> Any:
    """The model object in the file at ``path``; every loader reads the file itself."""
    if fmt == ArtifactFormat.LIGHTGBM:
        import lightgbm as lgb

        try:
            return lgb.Booster(model_file=path)
        except (lgb.basic.LightGBMError, UnicodeDecodeError, ValueError) as exc:
            raise ArtifactRefused(f"Not a valid LightGBM model text: {str(exc)[:300]}") from None
    if fmt in (ArtifactFormat.XGBOOST_JSON, ArtifactFormat.XGBOOST_UBJ):
        import xgboost as xgb

        with open(path, "rb") as handle:
            data = bytearray(handle.read())  # one copy, no decode: XGBoost parses the raw buffer
        booster = xgb.Booster()
        try:
            booster.load_model(data)
        except Exception as exc:  # junk bytes raise XGBoostError, but also ValueError/UnicodeDecodeError
            raise ArtifactRefused(f"Not a valid XGBoost model: {str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}") from None
        return booster
    if fmt == ArtifactFormat.SKOPS:
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # skops raises many types for a corrupt archive
            raise ArtifactRefused(f"Not a valid skops file: {exc}") from None
        refused = sorted(t for t in untrusted if not _trusted_skops_type(t))
        if refused:
            raise ArtifactRefused(
                f"The skops file contains types that are not trusted: {', '.join(refused)}.",
                {"file": [f"Untrusted type {t}" for t in refused]},
            )
        try:
            return sio.load(path, trusted=untrusted)
        except Exception as exc:
            raise ArtifactRefused(f"Could not load the skops file: {exc}") from None
    if fmt in PICKLE_FORMATS:
        # The only place that unpickles: after the exact sha256 was trusted by an admin.
        if not TrustedArtifactHash.objects.filter(sha256=sha256).exists():
            raise ArtifactRefused(
                f"This {fmt} file (sha256 {sha256}) is not trusted. Unpickling runs arbitrary code, "
                "so an admin must add its sha256 under Trusted artifact hashes before it can be uploaded.",
                {"file": ["Untrusted pickle: not loaded."]},
            )
        try:
            if fmt == ArtifactFormat.JOBLIB:
                import joblib

                return joblib.load(path)
            import pickle

            with open(path, "rb") as handle:
                return pickle.load(handle)  # noqa: S301 - sha256 trusted by an admin above
        except Exception as exc:
            raise ArtifactRefused(f"Could not load the trusted {fmt} file: {exc}") from None
    raise ArtifactRefused(f"Unknown format '{fmt}'.", {"format": [f"Choose from {', '.join(ArtifactFormat.values)}."]})


def load_model_object(*, path: str, fmt: str, sha256: str) -> Any:
    """The model object of the file at ``path``; cached per process by sha256 (files never change)."""
    with _CACHE_LOCK:
        if sha256 in _CACHE:
            _CACHE.move_to_end(sha256)
            return _CACHE[sha256]
    obj = _load_uncached(path, fmt, sha256)
    with _CACHE_LOCK:
        _CACHE[sha256] = obj
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return obj


@contextmanager
def on_disk(data: bytes | None, file: IO[bytes] | None) -> Iterator[str]:
    """A path holding the upload: the file itself when it already is one on disk, else a temporary copy."""
    name = getattr(file, "name", None)
    if hasattr(file, "temporary_file_path"):  # a Django upload already spooled to disk
        name = file.temporary_file_path()
    if file is not None and isinstance(name, str) and os.path.isabs(name) and os.path.isfile(name):
        yield name
        return
    with tempfile.NamedTemporaryFile(prefix="vigil-artifact-", dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        if data is not None:
            copy.write(data)
        elif file is not None:
            file.seek(0)
            shutil.copyfileobj(file, copy)
        copy.flush()
        yield copy.name
