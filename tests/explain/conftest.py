import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Each test builds its own versions: don't let a cached runtime from another test leak in.
    from explain import loading, runtime

    loading._CACHE.clear()
    runtime._RUNTIMES.clear()
    yield
