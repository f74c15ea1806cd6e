from fastapi import FastAPI

from app import tasks
from app.tasks import tasks as task_module

app = FastAPI()


@app.post("/run")
async def run():
    tasks.run()  # error: STL107


@app.post("/run-module")
async def run_module():
    task_module.run()  # error: STL107


@app.post("/queue")
async def queue():
    tasks.tasks.enqueue()  # ok: STL107 - enqueue only appends to a list
