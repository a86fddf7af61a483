"""SQLite's single writer, handed over in two classes: what a user is waiting for before background work."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterLock:
    """A FIFO lock per class; on release the longest-waiting urgent writer goes first, then background ones.

    A webhook sender (Shopify gives up after 5 s) or a click (Slack's 3 s) waits only for the writer
    holding the lock, not behind every worker commit queued before it.
    """

    def __init__(self) -> None:
        self._held = False
        self._queues: dict[bool, deque[asyncio.Future[None]]] = {True: deque(), False: deque()}

    def locked(self) -> bool:
        """True while some writer holds it."""
        return self._held

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        """Hold the lock for the block."""
        await self._acquire(urgent=not background)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, *, urgent: bool) -> None:
        if not self._held and not any(self._queues.values()):
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        queue = self._queues[urgent]
        queue.append(turn)
        try:
            await turn  # ownership is handed over with the result: `_held` stays True
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    queue.remove(turn)
            raise

    def _release(self) -> None:
        for urgent in (True, False):
            queue = self._queues[urgent]
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False
