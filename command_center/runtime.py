"""Running the server in-process (demo, tests). Production runs gunicorn via the Procfile."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


def run_server(cc: Any) -> None:
    """Serve until interrupted (threaded: every kiosk gets its own thread)."""
    server = make_server(cc.settings.host, cc.settings.port, cc.server, threaded=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        cc.stop()


def start_background_server(
    cc: Any, host: str = "127.0.0.1", port: int = 0
) -> tuple[BaseWSGIServer, str]:
    """Start serving in a daemon thread; returns the server and its base URL (tests, bench)."""
    server = make_server(host, port, cc.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="cc-http")
    thread.start()
    return server, f"http://{host}:{server.server_port}"
