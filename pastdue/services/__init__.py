"""Use cases: load, decide, save with the ETag, then hand the effects to the adapters."""
