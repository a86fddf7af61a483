"""Job and request ids on every log line, per asyncio task (contextvars)."""

import asyncio
import io
import logging

from bot import logctx


def test_lines_carry_the_scope_of_their_task():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logctx.ContextFilter())
    handler.setFormatter(logging.Formatter("%(message)s%(context)s"))
    log = logging.getLogger("test.logctx")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    async def job(n: int) -> None:
        with logctx.scope(f"job {n} shopify.hold request {n * 10}"):
            await asyncio.sleep(0.01 * (3 - n))  # interleaved: each task keeps its own context
            log.info("held")

    async def main() -> None:
        await asyncio.gather(job(1), job(2))
        log.info("outside")

    asyncio.run(main())
    log.removeHandler(handler)
    assert stream.getvalue().splitlines() == ["held [job 2 shopify.hold request 20]",
                                              "held [job 1 shopify.hold request 10]", "outside"]
