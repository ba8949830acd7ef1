"""The shared argparse value types: bounds and messages."""

from __future__ import annotations

import argparse

import pytest

from server.argtypes import whole_number


def test_whole_number_takes_values_within_its_bounds() -> None:
    port = whole_number(1, 65535, what="a port")
    assert port("1") == 1 and port("65535") == 65535
    assert whole_number(1)("1000000") == 1000000


@pytest.mark.parametrize(("text", "message"), [
    ("0", "a port is 1-65535, not 0"),
    ("65536", "a port is 1-65535, not 65536"),
    ("-5", "a port is 1-65535, not -5"),
    ("http", "not a whole number: 'http'"),
    ("1.5", "not a whole number: '1.5'"),
])
def test_whole_number_refuses_with_a_message(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        whole_number(1, 65535, what="a port")(text)


def test_a_count_below_one_is_a_usage_error_of_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--frames", type=whole_number(1))
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--frames", "0"])
    assert stopped.value.code == 2
    assert "argument --frames: a count is at least 1, not 0" in capsys.readouterr().err
