"""Composer's assistant: a piano-roll editor with local, mood-conditioned music generators."""

__version__ = "0.1.0"
