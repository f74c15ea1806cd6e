"""register_all() registers handlers for HTTPException (a subclass) and Exception: nothing to report."""
from fastapi import FastAPI

from . import errors

app = FastAPI()  # ok: STL401, STL402
errors.register_all(app)
errors.install_timing(app)
errors.install_cors(app)  # ok: STL304 - added last, outermost


@app.get("/items")
async def items():
    return {"items": []}
