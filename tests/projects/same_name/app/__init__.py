"""A package ``app`` whose module ``app.app`` holds the application (``uvicorn app.app:app``)."""
