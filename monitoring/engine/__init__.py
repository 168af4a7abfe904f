"""The pure monitoring engine: sketches, their codec, profiles' types, evaluation and statistics.

Nothing under this package imports Django (a test enforces it): it takes numpy arrays and
plain dicts in and gives them back, so it can be tested against scipy and scikit-learn alone.
"""
