"""The app's functions as azure-functions indexes them. get_functions() may run once per process only
(a second call reports every function as a duplicate), so the tests share one result."""

from functools import cache

import function_app


@cache
def functions() -> tuple:
    return tuple(function_app.app.get_functions())
