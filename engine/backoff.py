"""How long to wait before the next attempt of a failed node, and whether to try again at all
(SPEC §4 retries, §8 retry classes)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from engine.limits import MAX_RETRY_DELAY_S

BACKOFFS = ("fixed", "linear", "exponential")
DEFAULT_MULTIPLIER = 2.0


def retry_delay(
    retry: Mapping[str, Any],
    attempt: int,
    rand: Callable[[], float] = random.random,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

    fixed: delay_s; linear: delay_s * attempt; exponential: delay_s * multiplier **
    (attempt - 1) (`multiplier` defaults to 2); capped by max_delay_s, and never more than a
    day (`MAX_RETRY_DELAY_S`: with 100 attempts an uncapped exponential backoff would wait for
    ever). `jitter` true spreads the delay uniformly over [0, delay] ("full jitter"); a
    fraction j spreads it over [delay * (1 - j), delay]. `retry_after_s` (what the failure
    asked for, e.g. an HTTP `Retry-After`) is a minimum, within the same cap.
    """
    base = float(retry.get("delay_s") or 0)
    kind = retry.get("backoff") or "fixed"
    if kind == "fixed":
        delay = base
    elif kind == "linear":
        delay = base * attempt
    elif kind == "exponential":
        multiplier = retry.get("multiplier")
        multiplier = DEFAULT_MULTIPLIER if multiplier is None else float(multiplier)
        delay = base * _power(multiplier, attempt - 1)
    else:
        raise ValueError(f"unknown backoff {kind!r}; expected one of {', '.join(BACKOFFS)}")
    cap = retry.get("max_delay_s")
    cap = MAX_RETRY_DELAY_S if cap is None else min(float(cap), MAX_RETRY_DELAY_S)
    delay = min(delay, cap)
    jitter = retry.get("jitter")
    if jitter is True:
        delay *= rand()
    elif jitter and not isinstance(jitter, bool):
        delay *= 1.0 - float(jitter) * rand()
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(float(retry_after_s), cap)
    return max(delay, 0.0)


def _power(multiplier: float, exponent: int) -> float:
    """multiplier ** exponent without overflow (the cap applies afterwards)."""
    try:
        return multiplier ** min(exponent, 1024)
    except OverflowError:
        return float("inf")


def should_retry(retry: Mapping[str, Any], error: Mapping[str, Any]) -> bool:
    """Whether a failed attempt's error is worth another attempt (attempts left aside).

    Without `retry.on`, every error its handler calls retryable is (a timeout, a connection
    error, a 5xx), and none it calls permanent (a blocked address, a division by zero, a bad
    config). With `retry.on` (a list of error types), exactly the errors of those types are:
    naming a type there is the user's decision to retry it.
    """
    on = retry.get("on")
    if on:
        return error.get("type") in on
    return error.get("retryable", True) is not False
