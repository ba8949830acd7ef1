"""argparse value types shared by the command-line tools (jinglin, the simulator, the benchmarks)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(low: int, high: int | None = None, *, what: str = "a count") -> Callable[[str], int]:
    """An argparse type: a whole number from low to high (no upper bound when high is None).

    A value outside the bounds, or not a whole number, is a usage error (exit 2) naming the
    argument, instead of a traceback or a run that means nothing (a median of no frames).
    what names the value in the message ("a port").
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"{low}-{high}"
            raise argparse.ArgumentTypeError(f"{what} is {bounds}, not {value}")
        return value

    return parse
