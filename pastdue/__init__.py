"""pastdue: the past-due balance (dunning) back end."""

__version__ = "0.1.0"
