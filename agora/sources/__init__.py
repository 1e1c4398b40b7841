"""Source kinds: one module per kind, the shared interface (`base`) and the runner."""
