"""The one error the workbench's API raises: an HTTP status and a one-line message, sent as
``{"error": message}`` JSON (never HTML)."""

from __future__ import annotations


class ApiError(Exception):
    """``status`` (400, 403, 404, 409, 413, 429) and a one-line ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = int(status)
        self.message = " ".join(str(message).split())
