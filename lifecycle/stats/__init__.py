"""Statistics of version comparisons: numpy/scipy only, no Django (tested against references)."""
