"""The HTTP service: an app factory and its routers."""
