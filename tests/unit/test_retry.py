"""tui.transfer.retry: the backoff has a floor, honours Retry-After, and counts its retries (no clocks, no sleeps:
the sleep and the random source are injected)."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError

from tui.errors import StoreError, TransientError
from tui.storage.s3 import translate_error
from tui.transfer.retry import RetryCounter, RetryPolicy, retrying


class ZeroRandom(random.Random):
    """The jitter's worst case for a server: a wait of 0."""

    def uniform(self, a: float, b: float) -> float:
        return a


class TopRandom(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_no_retry_sooner_than_the_floor() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n, ZeroRandom()) for n in (1, 2, 5)] == [0.1, 0.1, 0.1]
    assert RetryPolicy(floor=0.25).delay(1, ZeroRandom()) == 0.25


def test_the_ceiling_grows_and_is_capped() -> None:
    policy = RetryPolicy(base=0.2, cap=10.0)
    assert [policy.delay(n, TopRandom()) for n in (1, 2, 3, 10)] == [0.4, 0.8, 1.6, 10.0]


def test_retry_after_is_honoured_within_its_cap() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.delay(1, ZeroRandom(), retry_after=3.0) == 3.0
    assert policy.delay(1, ZeroRandom(), retry_after=600.0) == 60.0
    # a Retry-After shorter than the jitter does not shorten the wait
    assert policy.delay(3, TopRandom(), retry_after=0.5) == 1.6
    assert policy.delay(1, ZeroRandom(), retry_after=0.0) == 0.1


async def test_retrying_waits_what_the_server_asked_and_counts() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    errors: list[TransientError] = []
    for after in (2.5, None, 7.0):
        err = TransientError("slow down")
        err.retry_after = after
        errors.append(err)

    async def flaky() -> str:
        if errors:
            raise errors.pop(0)
        return "done"

    counter = RetryCounter()
    result = await retrying(flaky, policy=RetryPolicy(counter=counter), sleep=sleep, rng=ZeroRandom())
    assert result == "done"
    assert waits == [2.5, 0.1, 7.0]
    assert counter.count == 3


async def test_a_permanent_error_is_not_retried_or_counted() -> None:
    calls: list[int] = []

    async def broken() -> None:
        calls.append(1)
        raise StoreError("no")

    async def sleep(seconds: float) -> None:
        raise AssertionError("no wait expected")

    counter = RetryCounter()
    with pytest.raises(StoreError):
        await retrying(broken, policy=RetryPolicy(counter=counter), sleep=sleep)
    assert calls == [1] and counter.count == 0


async def test_the_last_error_after_the_attempts_run_out() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def always() -> None:
        raise TransientError("503")

    counter = RetryCounter()
    with pytest.raises(TransientError):
        await retrying(always, policy=RetryPolicy(attempts=4, counter=counter), sleep=sleep, rng=ZeroRandom())
    assert waits == [0.1, 0.1, 0.1] and counter.count == 3


def _client_error(status: int, code: str, headers: dict[str, str]) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": code},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
        },
        "PutObject",
    )


def test_s3_errors_carry_retry_after() -> None:
    slow = translate_error(_client_error(503, "SlowDown", {"retry-after": "7"}), "put x")
    assert isinstance(slow, TransientError) and slow.retry_after == 7.0
    dated = translate_error(_client_error(503, "SlowDown", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), "put x")
    assert isinstance(dated, TransientError) and dated.retry_after == 0.0  # a date in the past: no extra wait
    plain = translate_error(_client_error(500, "InternalError", {}), "put x")
    assert isinstance(plain, TransientError) and plain.retry_after is None
    junk = translate_error(_client_error(429, "TooManyRequests", {"retry-after": "soon"}), "put x")
    assert isinstance(junk, TransientError) and junk.retry_after is None
