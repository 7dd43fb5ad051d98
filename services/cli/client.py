"""The CLI's HTTP client: finds the service, authenticates, and maps failures to exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer

# Exit codes scripts can rely on.
OK, RUN_FAILED, BAD_REQUEST, UNREACHABLE, AUTH, NOT_FOUND = 0, 1, 2, 3, 4, 5


def default_token(data_dir: Path = Path(".modx")) -> str | None:
    """``MODX_API_TOKEN``, else the token ``modx up`` wrote under ``./.modx/``."""
    token = os.environ.get("MODX_API_TOKEN")
    if token:
        return token
    path = data_dir / "token"
    return path.read_text().strip() if path.exists() else None


def fail(message: str, code: int, as_json: bool = False, details: Any = None) -> NoReturn:
    """Print an error (as JSON when asked) and exit with ``code``."""
    if as_json:
        typer.echo(json.dumps({"error": {"message": message, "details": details}}))
    else:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        if details:
            typer.echo(json.dumps(details, indent=2), err=True)
    raise typer.Exit(code)


class Client:
    """A thin synchronous client of the REST API."""

    def __init__(
        self, url: str | None = None, token: str | None = None, as_json: bool = False
    ) -> None:
        self.url = (url or os.environ.get("MODX_URL") or "http://127.0.0.1:8000").rstrip("/")
        self.token = token or default_token()
        self.as_json = as_json
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(30.0, read=330.0)
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; on an error, print it and exit with the matching code."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            fail(f"cannot reach MODX at {self.url}: {exc}", UNREACHABLE, self.as_json)
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {"message": response.text}
            code = {401: AUTH, 403: AUTH, 404: NOT_FOUND}.get(response.status_code, BAD_REQUEST)
            if response.status_code >= 500:
                code = UNREACHABLE
            fail(
                f"{response.status_code} {error.get('message', '')}",
                code,
                self.as_json,
                error.get("details"),
            )
        return response.json() if response.content else None
