from starlette.routing import Mount
from tp.pages import routes

sandbox = Mount("/sandbox/{org}", routes=routes)
