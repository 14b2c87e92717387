"""``htrkit serve``: a page to draw or upload handwriting on, and a JSON API behind it.

:func:`htrkit.web.app.create_app` builds the ASGI application (FastAPI); ``htrkit serve``
runs it with uvicorn. See ``docs/web.md``.
"""
