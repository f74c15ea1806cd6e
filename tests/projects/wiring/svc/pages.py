"""A routes list the app of another module serves: no Mount of the project adds path parameters."""
from starlette.responses import JSONResponse
from starlette.routing import Route


async def page(request):
    number = request.path_params["page_id"]  # error: STL605
    return JSONResponse({"page": number, "id": request.path_params["id"]})


routes = [Route("/pages/{id:int}", page)]
