"""labelapp: the web app, data model, services and CLI.

Kept import-light on purpose: ``import labelapp`` pulls in neither Flask nor any heavy library,
so the CLI starts fast. The app factory lives in :mod:`labelapp.app`.
"""

__version__ = "0.1.0"
