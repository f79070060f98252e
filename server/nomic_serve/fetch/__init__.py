"""Image sources: inline data decoded under the byte limit, URLs fetched behind the SSRF guard."""

from .backend import Resolver, resolve_host
from .client import ImageFetcher
from .guard import AddressPolicy
from .sources import parse_image_content

__all__ = ["AddressPolicy", "ImageFetcher", "Resolver", "parse_image_content", "resolve_host"]
