"""Tests of the HTTP API (lambdas.api)."""
