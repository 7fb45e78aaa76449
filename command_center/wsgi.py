"""WSGI entry point for gunicorn (see Procfile). Importing this module builds the app."""

from command_center.app import create_app

cc = create_app()
app = cc.server
