"""The one task pool: bounded, counts every failure, cancels and awaits its tasks on the way out. No timing:
events and counters decide, never a clock."""

from __future__ import annotations

import asyncio

import pytest

from tui.transfer.pool import TaskPool


async def test_never_more_than_the_limit_at_once() -> None:
    running = peak = 0
    gate = asyncio.Event()
    three = asyncio.Event()
    submitted = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three.set()
        await gate.wait()
        running -= 1

    async def produce(pool: TaskPool) -> None:
        nonlocal submitted
        for _ in range(10):
            await pool.submit(work())
            submitted += 1

    async with TaskPool(3) as pool:
        producer = asyncio.create_task(produce(pool))
        await three.wait()
        for _ in range(20):
            await asyncio.sleep(0)  # the producer had every chance to start a 4th: submit waits for a slot
        assert running == 3 and submitted == 3 and pool.running == 3
        gate.set()
        await producer
    assert peak == 3
    assert submitted == 10 and pool.finished == 10 and pool.running == 0


async def test_every_failure_is_counted_with_its_label() -> None:
    class Boom(Exception):
        pass

    async def fail(n: int) -> None:
        await asyncio.sleep(0)
        raise Boom(f"item {n}")

    async def ok() -> None:
        await asyncio.sleep(0)

    async with TaskPool(2) as pool:
        for n in range(5):
            await pool.submit(fail(n), label=f"f{n}")
            await pool.submit(ok(), label=f"ok{n}")
    assert sorted(label for label, _ in pool.failures) == [f"f{n}" for n in range(5)]
    assert all(isinstance(exc, Boom) for _, exc in pool.failures)
    assert pool.finished == 10 and pool.cancelled == 0


async def test_one_task_cancelled_on_its_own_does_not_stop_the_others() -> None:
    gate = asyncio.Event()
    done: list[int] = []

    async def work(n: int) -> None:
        await gate.wait()
        done.append(n)

    async with TaskPool(4) as pool:
        tasks = [await pool.submit(work(n)) for n in range(4)]
        await asyncio.sleep(0)
        tasks[1].cancel()
        await asyncio.sleep(0)
        gate.set()
    assert sorted(done) == [0, 2, 3]
    assert pool.cancelled == 1 and pool.failures == []


async def test_an_error_in_the_block_cancels_and_awaits_every_task() -> None:
    started = 0
    all_started = asyncio.Event()
    cleaned: list[int] = []

    async def work(n: int) -> None:
        nonlocal started
        started += 1
        if started == 3:
            all_started.set()
        try:
            await asyncio.Event().wait()  # forever
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits (an upload released to the journal)
            cleaned.append(n)

    pool = TaskPool(3)
    with pytest.raises(RuntimeError, match="listing broke"):
        async with pool:
            for n in range(3):
                await pool.submit(work(n))
            await all_started.wait()
            raise RuntimeError("listing broke")
    # on the way out, every task was cancelled and its cleanup ran to the end before the block was left
    assert sorted(cleaned) == [0, 1, 2]
    assert pool.running == 0 and pool.cancelled == 3


async def test_cancelling_the_owner_cancels_and_awaits_the_tasks() -> None:
    cleaned: list[int] = []
    ready = asyncio.Event()

    async def work(n: int) -> None:
        try:
            ready.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)
            cleaned.append(n)

    async def owner() -> None:
        async with TaskPool(2) as pool:
            await pool.submit(work(1))
            await pool.submit(work(2))
        # leaving normally would wait forever: the owner is cancelled while it waits in join()

    task = asyncio.create_task(owner())
    await ready.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cleaned) == [1, 2]


async def test_a_task_cancelled_before_it_started_leaves_no_unawaited_coroutine() -> None:
    gate = asyncio.Event()

    async def work() -> None:
        await gate.wait()

    async with TaskPool(1) as pool:
        task = await pool.submit(work())
        task.cancel()  # before the loop ever ran it
    assert pool.cancelled == 1 and pool.running == 0


async def test_submit_after_the_block_is_refused() -> None:
    async with TaskPool(1) as pool:
        pass

    async def work() -> None:
        return None

    with pytest.raises(RuntimeError, match="closed"):
        await pool.submit(work())
