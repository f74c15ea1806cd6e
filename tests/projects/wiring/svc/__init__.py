"""Apps configured by setup functions of other modules: handlers, middleware, late setup."""
