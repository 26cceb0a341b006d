"""Figures for dashboards and reports (reads only)."""
