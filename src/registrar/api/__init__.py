"""The HTTP surface: routers, authentication, rate limits and Okta-shaped errors."""

from .app import create_app

__all__ = ["create_app"]
