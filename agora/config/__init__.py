"""Wall configuration: the TOML schema, loading with ``extends`` and secrets, and error reports."""
