"""Pages whose transaction lost a race to another one are served again.

>>> app.add_middleware(RetryLostRaces, busy=busy_page)   # doctest: +SKIP

A page's transaction ends before its response starts (``visit()`` commits when the
handler's block ends), so a deadlock, a lock timeout or a serialization failure reaches
this middleware with nothing sent yet: the request is run again, its body given again
as it was first received, up to ``bastion.orm.concurrency.ATTEMPTS`` times
(``bastion.orm.concurrency``). After the last try the browser gets ``busy()``, a 503
that says nothing was saved, rather than a bare 500. A failure after the response
started is not retried.

It sits inside FastAPI's error handling, so that it sees the exception before the 500
page is sent. The API's routes retry their own calls and answer in their own formats
(``bastion.api``): they pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.orm.concurrency import ATTEMPTS, lost_a_race, note_retry, wait_before

from .visitor import API_PATHS

logger = logging.getLogger(__name__)


class RetryLostRaces:
    def __init__(
        self, app: ASGIApp, busy: Callable[[], Response], attempts: int = ATTEMPTS
    ) -> None:
        self.app = app
        self.busy = busy
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(API_PATHS):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        for attempt in range(1, self.attempts + 1):
            try:
                await self.app(scope, _replaying(received, receive), send_noting_start)
                return
            except Exception as error:
                if started or not lost_a_race(error):
                    raise
                if attempt == self.attempts:
                    logger.warning(
                        "page %r gave up: lost a race %d times in a row",  # %r: no forged log lines
                        scope.get("path", "?"),
                        attempt,
                    )
                    await self.busy()(scope, receive, send)
                    return
                note_retry(error, attempt, self.attempts)
                await anyio.sleep(wait_before(attempt))


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives what earlier tries read, then what the client sends
    next (kept for the tries after)."""
    replay = iter(list(received))

    async def receive_again() -> Message:
        message = next(replay, None)
        if message is None:
            message = await receive()
            received.append(message)
        return message

    return receive_again
