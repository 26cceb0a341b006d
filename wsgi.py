"""WSGI entry point: ``gunicorn wsgi:app`` and ``FLASK_APP=wsgi.py``."""

from vaulta import create_app

app = create_app()
