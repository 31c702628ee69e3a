"""How long to wait before the next attempt of a failed node (SPEC §4 retries)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from engine.limits import MAX_RETRY_DELAY_S

BACKOFFS = ("fixed", "linear", "exponential")


def retry_delay(
    retry: Mapping[str, Any], attempt: int, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

    fixed: delay_s; linear: delay_s * attempt; exponential: delay_s * 2 ** (attempt - 1);
    capped by max_delay_s, and never more than a day (`MAX_RETRY_DELAY_S`: with 100 attempts
    an uncapped exponential backoff would wait for ever). `jitter` true spreads the delay
    uniformly over [0, delay] ("full jitter"); a fraction j spreads it over
    [delay * (1 - j), delay].
    """
    base = float(retry.get("delay_s") or 0)
    kind = retry.get("backoff") or "fixed"
    if kind == "fixed":
        delay = base
    elif kind == "linear":
        delay = base * attempt
    elif kind == "exponential":
        delay = base * 2.0 ** min(attempt - 1, 64)
    else:
        raise ValueError(f"unknown backoff {kind!r}; expected one of {', '.join(BACKOFFS)}")
    cap = retry.get("max_delay_s")
    delay = min(delay, MAX_RETRY_DELAY_S if cap is None else float(cap))
    jitter = retry.get("jitter")
    if jitter is True:
        delay *= rand()
    elif jitter and not isinstance(jitter, bool):
        delay *= 1.0 - float(jitter) * rand()
    return max(delay, 0.0)
