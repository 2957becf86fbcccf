"""Tests of the Lambda adapters."""
