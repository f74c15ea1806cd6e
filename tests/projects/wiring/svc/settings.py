from prometheus_fastapi_instrumentator import Instrumentator

ORIGINS = ["https://example.com"]
DEBUG = False
metrics = Instrumentator()
