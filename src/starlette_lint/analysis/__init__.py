"""Analyses shared by several rule families, built on the model and the framework step.

Each module answers one question the rules ask, in one place:

* :mod:`.blocking`: the request path of a module and the blocking calls on it (STL1xx);
* :mod:`.request_objects`: which names are request objects (the one detector);
* :mod:`.lifecycle`: which functions run only once the application has started, and
  which receivers of ``add_middleware``-style calls are applications;
* :mod:`.middleware_classes`: what a middleware class is (pass-through, answering,
  ``BaseHTTPMiddleware``, a plain ASGI class);
* :mod:`.flow`: whether control can reach the end of a block, and what runs after a
  statement;
* :mod:`.error_contract`: the exception handlers of each app and what its errors look like;
* :mod:`.deliberate`: where a test exercises a deprecated API on purpose.

Facts that cost a walk are built once per module through :meth:`Framework.derived`.
"""
