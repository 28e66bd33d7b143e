"""Routers, one per kind of object."""
