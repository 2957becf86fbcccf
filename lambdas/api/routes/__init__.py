"""One router per concern: health, attribution, incrementality, optimization, performance,
models. Each route validates its body (:mod:`lambdas.api.schemas`), calls :mod:`mmm_core` (imported
inside the route, on first use) and returns the core's JSON-ready result."""
