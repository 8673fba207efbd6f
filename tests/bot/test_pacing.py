"""The pacer keeps the transports under each platform's flood limits."""

from __future__ import annotations

import pytest

from bot.dispatcher import RetryLater
from bot.pacing import Pacer


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def pacer(time: FakeTime, *args: float) -> Pacer:
    return Pacer(*args, clock=time.clock, sleep=time.sleep)


async def test_a_burst_goes_at_once_then_one_message_a_second_in_that_chat():
    time = FakeTime()
    paced = pacer(time, 30, 30, 1, 3)
    for _ in range(3):
        await paced.acquire("ana")
    assert time.slept == []
    await paced.acquire("ana")
    assert time.slept == [1.0]
    await paced.acquire("bob")  # another chat is not held up by Ana's
    assert time.slept == [1.0]


async def test_the_overall_rate_applies_across_chats():
    time = FakeTime()
    paced = pacer(time, 2, 2)
    await paced.acquire("ana")
    await paced.acquire("bob")
    await paced.acquire("cid")
    assert time.slept == [0.5]


async def test_a_long_wait_is_handed_back_to_the_dispatcher_instead_of_slept():
    time = FakeTime()
    paced = pacer(time, 0, 1, 0.2, 1)
    await paced.acquire("ana")
    with pytest.raises(RetryLater) as later:
        await paced.acquire("ana")
    assert later.value.seconds == pytest.approx(5.0)
    assert time.slept == []


async def test_a_hold_after_a_429_stops_one_chat_or_every_chat():
    time = FakeTime()
    paced = pacer(time, 0, 1)
    paced.hold("ana", 10)
    with pytest.raises(RetryLater):
        await paced.acquire("ana")
    await paced.acquire("bob")
    paced.hold(None, 1.5)
    await paced.acquire("bob")
    assert time.slept == [1.5]
    time.now += 10
    await paced.acquire("ana")
