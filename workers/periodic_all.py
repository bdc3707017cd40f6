"""Imports every module that registers periodic checks (see workers/schedules.py)."""
