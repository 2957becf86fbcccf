"""The MMM platform's AWS CDK constructs and stacks, one module per concern (see README.md).

Imported as ``cdk`` from the repository root (``app.py``, ``tests/cdk``); AWS CDK itself is
always imported as ``aws_cdk``, so the names never meet.
"""
