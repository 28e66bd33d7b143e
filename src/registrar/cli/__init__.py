"""The ``registrar`` command."""

from .main import app, main

__all__ = ["app", "main"]
