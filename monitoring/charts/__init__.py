"""Plotly figure builders of the data scientists' dashboards (plain dicts, see base.py)."""
