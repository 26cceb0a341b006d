"""The Flask application class VAULTA runs on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from vaulta.jsonlimits import DepthLimitedJSONProvider

# More distinct callables than any app registers (views, hooks, error handlers).
_MAX_REMEMBERED = 2048


class VaultaFlask(Flask):
    """Flask, with ``ensure_sync`` remembered per callable, and a JSON provider that
    refuses documents nested deeper than JSON_MAX_DEPTH (vaulta/jsonlimits.py).

    Flask asks ``ensure_sync`` about every hook and view on every request, and each answer
    costs an ``inspect.iscoroutinefunction`` (about 20 per request, a few percent of a
    light page). The answer for a given function never changes, so it is kept.
    """

    json_provider_class = DepthLimitedJSONProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync[func]
        except KeyError:
            result = super().ensure_sync(func)
            if len(self._sync) < _MAX_REMEMBERED:
                self._sync[func] = result
            return result
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
