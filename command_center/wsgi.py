"""WSGI entry point for gunicorn (see Procfile). Importing this module builds the app; it
fails (and gunicorn with it) without a real ``CC_SECRET_KEY``, naming the setting."""

from command_center.app import create_app

cc = create_app()
app = cc.server
