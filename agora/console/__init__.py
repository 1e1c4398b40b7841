"""The operator console (Qt)."""
