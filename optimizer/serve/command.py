"""``lifecircle serve``: start the workbench with uvicorn and open it in the browser (issue 15)."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import webbrowser
from urllib.parse import quote

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.serve.security import is_local_host, new_token

# Seconds between the socket being bound and the browser being asked to open the page: uvicorn
# is serving by then, and a slow browser start only waits in its own process.
BROWSER_DELAY_S = 0.5


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; a port in use (or a bad host) is one ScenarioError line."""
    if not 0 <= port <= 65535:
        raise ScenarioError(f"--port: value {port} must be in 0..65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ScenarioError(f"--host: {host!r} is not an address of this machine ({error.strerror})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    if sys.platform != "win32":  # Windows' SO_REUSEADDR would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        if port and error.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ScenarioError(f"--port: port {port} on {host} is in use; stop the other server or give "
                                "another --port") from None
        raise ScenarioError(f"--host/--port: cannot listen on {host}:{port}: {error.strerror}") from None
    sock.setblocking(False)
    return sock


def effective_token(host: str, token: str | None) -> str | None:
    """The token the server requires: ``token`` as given; else a random one when ``host`` is not
    this machine only; else None (localhost needs none)."""
    if token is None and not is_local_host(host):
        return new_token()
    return token


def server_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: a wildcard address is shown as this machine's name."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + (f"?token={quote(token)}" if token else "")


def run_server(folder=".", host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
               max_solves: int = 2, open_browser: bool = True, lang: str | None = None, echo=print) -> None:
    """Serve FOLDER until Ctrl-C. Bound to anything but localhost, a token is required (a random
    one unless ``token`` is given); the URL printed carries it, as Jupyter's does."""
    import uvicorn

    from lifecircle.optimizer.serve.app import create_app

    if max_solves < 1:
        raise ScenarioError(f"--max-solves: value {max_solves} must be >= 1")
    if token is not None and not token.strip():
        raise ScenarioError("--token: give a non-empty token")
    token = effective_token(host, token)
    app = create_app(folder, token=token, max_solves=max_solves, lang=lang)  # bad FOLDER: before binding
    sock = bind(host, port)
    port = sock.getsockname()[1]
    url = server_url(host, port, token)
    echo(f"lifecircle workbench: {url}")
    if token is not None:
        echo("anyone with this URL (its token) can use the workbench; keep it private")
    echo("Ctrl-C to stop")
    if open_browser:
        threading.Timer(BROWSER_DELAY_S, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    previous = _catch_stop_signals()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except _Stopped:
        pass  # uvicorn shut down gracefully (jobs cancelled), then passed the signal on
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    echo("stopped")


class _Stopped(Exception):
    """Ctrl-C or SIGTERM, after uvicorn's own graceful shutdown."""


def _raise_stopped(signum, frame):
    raise _Stopped(signum)


def _catch_stop_signals() -> dict:
    """Handlers that turn SIGINT/SIGTERM into :class:`_Stopped`. uvicorn handles both itself while it
    serves, then raises the signal again on its way out: with the default actions that would kill
    the process before its exit handlers run (multiprocessing's among them) or print a traceback."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
