"""Running the server in-process (demo, tests). Production runs gunicorn via the Procfile.

werkzeug's threaded server serves Socket.IO's WebSockets too (Flask-SocketIO threading mode
with simple-websocket, see command_center/realtime.py): each open WebSocket holds a thread.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _RequestHandler(WSGIRequestHandler):
    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # simple-websocket ends a finished WebSocket by raising ConnectionError; what follows
        # on that socket are WebSocket frames, not HTTP: close instead of parsing them
        self.close_connection = True


def run_server(cc: Any) -> None:
    """Serve until interrupted (threaded: every kiosk gets its own thread)."""
    server = make_server(
        cc.settings.host,
        cc.settings.port,
        cc.server,
        threaded=True,
        request_handler=_RequestHandler,
    )
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
    server = make_server(host, port, cc.server, threaded=True, request_handler=_RequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="cc-http")
    thread.start()
    return server, f"http://{host}:{server.server_port}"
