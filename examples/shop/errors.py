"""Exception handlers, registered by a setup function."""
from fastapi import Request
from fastapi.responses import JSONResponse


class OutOfStock(Exception):
    pass


async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
    return JSONResponse({"error": "out_of_stock", "message": str(exc)}, status_code=409)


def register_handlers(app) -> None:
    # an error format of the app's own, for one exception only: HTTPException, 404s and crashes
    # still answer something else (STL401, STL402)
    app.add_exception_handler(OutOfStock, out_of_stock)
