"""Lambda adapters of the MMM platform: ``api`` (FastAPI on Mangum) and ``pipeline``.

They call :mod:`mmm_core` and hold no science.
"""
