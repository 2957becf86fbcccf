"""Request and response bodies of the API (pydantic v2), one module per router.

Each request model carries a working example that ``/docs`` shows; every error answers
:class:`~lambdas.api.schemas.common.ErrorResponse`.
"""
