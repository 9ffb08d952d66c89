"""The HTTP API of listwatch (FastAPI): screening, registry reads, reviews, imports, watches."""

from listwatch.api.app import create_app
from listwatch.api.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
