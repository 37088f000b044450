"""What keeps the workbench from being more than a local planning tool (issue 15).

- **Who may talk to it.** Bound to localhost it needs no token, but it answers only requests whose
  ``Host`` is a loopback name (so a web page cannot reach it by DNS rebinding). Bound to any other
  address it needs an access token, as Jupyter does: ``?token=`` once (it becomes an HttpOnly,
  SameSite=Strict cookie), or the ``X-Lifecircle-Token`` header. A POST must carry JSON and come
  from the page's own origin, so a form on another site cannot start a solve (CSRF); only a POST without a body may omit the JSON
  type.
- **What a scenario may read.** Every file its YAML names must resolve inside the scenario's own
  folder: no absolute paths, no ``../``, no symbolic links pointing out, no database layers.
- **What the page may run.** A Content-Security-Policy allows the page's own scripts only.
"""

from __future__ import annotations

import ipaddress
import secrets
from http.cookies import SimpleCookie
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import parse_qs, urlsplit

from lifecircle.optimizer.errors import ScenarioError

TOKEN_COOKIE = "lifecircle_token"
TOKEN_HEADER = "x-lifecircle-token"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
# Own scripts and styles only; data: images for the SVG page's icons. Inline style attributes are
# allowed (an SVG marker's fill), inline scripts are not.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the ?token= URL never leaks through a link
    (b"x-frame-options", b"DENY"),
]
# The YAML keys that name a file the scenario reads (a file name, or {file: ..., layer: ...}).
FILE_KEYS = ("demand", "sites", "existing", "boundary")
# Files read beside scenario.yaml by their name: a city circle's outline (as `lifecircle city` reads it).
SIDE_FILES = ("boundary.geojson",)


def is_local_host(host: str) -> bool:
    """Whether ``host`` (a bind address or a name) is this machine only."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host_name(host_header: str) -> str:
    """The name in a Host header, without the port (``[::1]:8765`` -> ``::1``)."""
    host_header = host_header.strip()
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class GuardMiddleware:
    """ASGI middleware: token or loopback Host, same-origin JSON POSTs, security headers.

    ``token`` None: only loopback Host headers are served (403 otherwise).
    """

    def __init__(self, app, token: str | None = None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        set_cookie = False
        if self.token is None:
            if not is_local_host(_host_name(headers.get("host", ""))):
                return await _refuse(send, 403, "this workbench answers on localhost only; start it with "
                                                "--host and a token to reach it from elsewhere")
        else:
            given = _given_token(scope, headers)
            if given is None or not secrets.compare_digest(given[0].encode(), self.token.encode()):
                return await _refuse(send, 403, "access token missing or wrong; open the URL with ?token= "
                                                "that `lifecircle serve` printed")
            set_cookie = given[1] == "query"
        if scope.get("method") == "POST":
            problem = _post_problem(headers)
            if problem:
                return await _refuse(send, 403 if "origin" in problem else 415, problem)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if set_cookie:
                    extra.append((b"set-cookie", f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict; "
                                                 "Path=/".encode()))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _given_token(scope, headers: dict) -> tuple[str, str] | None:
    """(token, where it came from) for the first of header, cookie, query that carries one."""
    if headers.get(TOKEN_HEADER):
        return headers[TOKEN_HEADER], "header"
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is no token
        cookie = SimpleCookie()
    if TOKEN_COOKIE in cookie:
        return cookie[TOKEN_COOKIE].value, "cookie"
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], "query"
    return None


def _post_problem(headers: dict) -> str:
    """Why a POST is refused ('' when it is fine): JSON only, and from this server's own origin."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    bodyless = not content_type and headers.get("content-length", "0") == "0" \
        and "transfer-encoding" not in headers  # POST /api/jobs/{jid}/cancel
    if content_type != "application/json" and not bodyless:
        return "POST bodies must be JSON (Content-Type: application/json)"
    # a browser sends Origin with every cross-site POST: a bodyless one from another site stops here
    origin = headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
        return f"cross-origin request from {origin} refused"
    return ""


async def _refuse(send, status: int, message: str):
    import json

    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


# ---- scenario files --------------------------------------------------------------------------


def _named_files(data: dict) -> list[tuple[str, object]]:
    """(YAML key, value) of every file reference in a scenario's YAML."""
    named = []
    for key in FILE_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, dict) and "db" in value:
            named.append((key, value))  # refused below: a database is outside any folder
        elif isinstance(value, dict):
            named.append((key, value.get("file")))
        else:
            named.append((key, value))
    walking = data.get("walking")
    if isinstance(walking, dict) and walking.get("network") is not None:
        network = walking["network"]
        named.append(("walking.network", network.get("osm") if isinstance(network, dict) else network))
    return named


def _is_absolute(text: str) -> bool:
    return PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() \
        or bool(PureWindowsPath(text).drive) or text.startswith("~")


def check_scenario_files(yaml_path: Path) -> None:
    """Raise :class:`ScenarioError` (one line) unless every file the scenario's YAML names, and the
    YAML itself, resolves inside the YAML's own folder (a Shapefile's sidecars included).

    Called before the scenario is loaded, so nothing outside is ever read."""
    from lifecircle.optimizer.inputs.guards import load_yaml

    yaml_path = Path(yaml_path)
    folder = yaml_path.parent.resolve()
    if not _inside(yaml_path.resolve(), folder):
        raise ScenarioError(f"{yaml_path}: the scenario file is a link to outside its folder; the workbench "
                            "reads files inside the scenario's folder only")
    for beside in SIDE_FILES:  # read by name, not through the YAML
        if (folder / beside).exists() and not _inside(_resolved(folder / beside), folder):
            raise ScenarioError(f"{folder / beside}: a link to outside the scenario's folder; the workbench "
                                "reads files inside the scenario's folder only")
    data = load_yaml(yaml_path)
    if not isinstance(data, dict):
        return  # load_scenario names the problem
    for key, value in _named_files(data):
        where = f"{yaml_path}, field '{key}'"
        if isinstance(value, dict):
            raise ScenarioError(f"{where}: a database layer is not read by the workbench; it reads files inside "
                                "the scenario's folder only")
        if not isinstance(value, str) or not value.strip():
            continue  # load_scenario names the problem
        if _is_absolute(value.strip()):
            raise ScenarioError(f"{where}: {value!r} is an absolute path; the workbench reads files inside the "
                                "scenario's folder only")
        if ".." in PurePosixPath(value.replace("\\", "/")).parts:
            raise ScenarioError(f"{where}: {value!r} goes up with '..'; the workbench reads files inside the "
                                "scenario's folder only")
        target = folder / value
        for path in [target, *_sidecars(target)]:
            if not _inside(_resolved(path), folder):
                raise ScenarioError(f"{where}: {path.name} is a link to outside the scenario's folder; the "
                                    "workbench reads files inside the scenario's folder only")


def _sidecars(path: Path) -> list[Path]:
    """A Shapefile's sidecars: files beside ``path`` with its stem (.dbf, .shx, .prj, .cpg)."""
    if path.suffix.lower() != ".shp":
        return []
    try:
        return [p for p in path.parent.iterdir() if p.name.startswith(path.stem + ".") and p != path]
    except OSError:
        return []


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop: it leads nowhere inside either
        return Path("/")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
