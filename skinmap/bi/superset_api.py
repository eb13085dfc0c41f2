"""A small client for Superset's REST API: log in, then create or update objects by name.

Superset's API wants a bearer token (POST /api/v1/security/login) and, for
every write, a CSRF token bound to the session cookie. Each `ensure_*` looks
an object up by its name first, so provisioning twice updates instead of
duplicating.
"""
from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from skinmap.bi.superset import SupersetError


class SupersetApi:
    """A logged-in session against one Superset (base_url like http://127.0.0.1:8088)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._headers: dict[str, str] = {}
        login = self.request("POST", "/api/v1/security/login",
                             {"username": username, "password": password, "provider": "db", "refresh": True})
        self._headers["Authorization"] = f"Bearer {login['access_token']}"
        csrf = self.request("GET", "/api/v1/security/csrf_token/")
        self._headers.update({"X-CSRFToken": csrf["result"], "Referer": self.base_url})

    def request(self, method: str, path: str, body: Any = None, *, ok_statuses: tuple[int, ...] = ()) -> Any:
        """Send JSON, return the decoded JSON answer; raise SupersetError on an HTTP error not in ok_statuses."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={**self._headers, "Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=120) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            answer = exc.read().decode(errors="replace")
            if exc.code in ok_statuses:
                return json.loads(answer)
            raise SupersetError(f"Superset {method} {path}: HTTP {exc.code}: {answer[:1500]}") from exc

    def find(self, resource: str, **match: Any) -> dict | None:
        """The first object of /api/v1/<resource>/ whose fields equal `match`, or None."""
        query = urllib.parse.quote("(page:0,page_size:100)")
        listed = self.request("GET", f"/api/v1/{resource}/?q={query}")["result"]
        return next((item for item in listed if all(item.get(k) == v for k, v in match.items())), None)

    def ensure(self, resource: str, body: dict, **match: Any) -> int:
        """Create the object, or update the one whose fields equal `match`; return its id."""
        existing = self.find(resource, **match)
        if existing:
            self.request("PUT", f"/api/v1/{resource}/{existing['id']}", body)
            return int(existing["id"])
        return int(self.request("POST", f"/api/v1/{resource}/", body)["id"])
