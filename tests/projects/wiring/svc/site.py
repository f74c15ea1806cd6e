"""A Starlette site serving the routes list of another module."""
from starlette.applications import Starlette
from starlette.routing import Mount

from .pages import routes

site = Starlette(routes=[Mount("/static", routes=[]), *routes])
