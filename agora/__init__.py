"""Agora: a native multi-screen wall of live public conversation about a brand."""

__version__ = "0.1.0"
