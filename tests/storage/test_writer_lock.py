import asyncio

from storage.writer import WriterLock


async def _writer(lock, order, name, *, background):
    async with lock.hold(background=background):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_writers_go_before_queued_background_ones_each_in_arrival_order():
    lock, order, started = WriterLock(), [], []
    async with lock.hold(background=True):
        for name, background in [("b1", True), ("u1", False), ("b2", True), ("u2", False)]:
            started.append(asyncio.create_task(_writer(lock, order, name, background=background)))
            await asyncio.sleep(0)
        assert order == []  # all wait for the holder
    await asyncio.gather(*started)
    assert order == ["u1", "u2", "b1", "b2"]
    assert not lock.locked()


async def test_a_writer_cancelled_while_waiting_or_just_handed_the_lock_does_not_keep_it():
    lock, order = WriterLock(), []
    async with lock.hold():
        gone = asyncio.create_task(_writer(lock, order, "gone", background=False))
        kept = asyncio.create_task(_writer(lock, order, "kept", background=True))
        await asyncio.sleep(0)
        gone.cancel()  # cancelled while waiting
    await asyncio.gather(kept)
    assert order == ["kept"] and gone.cancelled() and not lock.locked()

    async with lock.hold():
        handed = asyncio.create_task(_writer(lock, order, "handed", background=False))
        after = asyncio.create_task(_writer(lock, order, "after", background=False))
        await asyncio.sleep(0)
    handed.cancel()  # the release above handed it the lock; it is cancelled before it could run
    await asyncio.gather(after)
    assert order == ["kept", "after"] and handed.cancelled() and not lock.locked()
