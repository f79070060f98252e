"""The SDK's version: the server's and the stubs' too (they move together)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
