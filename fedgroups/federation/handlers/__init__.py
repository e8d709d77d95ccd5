"""Handlers for received activities, one module per family; `dispatch.py` holds the table."""
