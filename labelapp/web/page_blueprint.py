"""The ``pages`` blueprint every page module adds its routes to (a module of its own, so that the
project page can use the other page modules' helpers without an import cycle)."""

from flask import Blueprint

pages = Blueprint("pages", __name__)
