"""Tests of the retraining pipeline's tasks (``lambdas.pipeline``) and of its state machine."""
