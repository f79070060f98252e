"""Admission of image work (images, bytes in flight, decoding memory) and the image intake.

The intake is driven through a real ImageFetcher against the local server of test_fetch.py
(its routes, started here on a port of this module's own); as there, a tripwire fails any
test that opens a socket to anything but a loopback address.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest

import nomic_serve.intake as intake_module
from nomic_serve.core.admission import DecodeBudget, ImageAdmission, ImageTicket
from nomic_serve.core.workpool import WorkPool
from nomic_serve.errors import (
    FetchError,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    Overloaded,
    ServeError,
)
from nomic_serve.fetch import ImageFetcher
from nomic_serve.intake import INLINE_PARSE_CHARS, ImageIntake

from ..support.image_server import (
    IMAGE,
    MAX_BYTES,
    ONLY_127_0_0_1,
    ImageServer,
    loopback_tripwire,
    open_gate,
    serve_images,
)
from ..support.waiting import eventually, eventually_sync

MB = 1024 * 1024

# --- ImageAdmission: images and compressed bytes in flight ----------------------------------


def test_admits_up_to_the_image_limit_then_refuses_with_a_hint() -> None:
    admission = ImageAdmission(max_images=8, max_bytes=MB)
    first = admission.admit(5)
    second = admission.admit(3)
    assert admission.images == 8
    with pytest.raises(
        Overloaded, match=r"8 images in flight, limit 8 \(IMAGE_MAX_PENDING\)"
    ) as busy:
        admission.admit(1)
    assert 0.05 <= busy.value.retry_after_s <= 10
    assert admission.images == 8  # a refusal takes nothing
    first.close()
    assert admission.images == 3
    third = admission.admit(5)  # the closed ticket's images are free again
    for ticket in (second, third):
        ticket.close()
    assert admission.images == 0


def test_a_request_larger_than_the_limit_is_refused_even_when_idle() -> None:
    admission = ImageAdmission(max_images=4, max_bytes=MB)
    with pytest.raises(Overloaded, match=r"\(IMAGE_MAX_PENDING\)"):
        admission.admit(5)
    assert admission.images == 0


@pytest.mark.parametrize("in_flight", [1, 1000, 1_000_000])
def test_retry_hint_stays_between_50_ms_and_10_s(in_flight: int) -> None:
    admission = ImageAdmission(max_images=in_flight, max_bytes=MB)
    with admission.admit(in_flight), pytest.raises(Overloaded) as busy:
        admission.admit(1)
    assert 0.05 <= busy.value.retry_after_s <= 10
    if in_flight == 1_000_000:
        assert busy.value.retry_after_s == 10  # the hint grows with the backlog, up to 10 s


def test_charges_up_to_the_byte_limit_then_refuses() -> None:
    admission = ImageAdmission(max_images=8, max_bytes=10 * MB)
    ticket = admission.admit(2)
    ticket.charge(6 * MB)
    other = admission.admit(1)
    other.charge(4 * MB)  # exactly the limit
    assert admission.bytes == 10 * MB
    with pytest.raises(
        Overloaded, match=r"10 MB of images in flight, limit 10 MB \(IMAGE_MAX_PENDING_MB\)"
    ) as busy:
        ticket.charge(1)
    assert 0.05 <= busy.value.retry_after_s <= 10
    assert (ticket.charged, other.charged, admission.bytes) == (6 * MB, 4 * MB, 10 * MB)
    other.close()
    assert admission.bytes == 6 * MB
    ticket.charge(4 * MB)  # the closed ticket's bytes are free again
    ticket.close()
    assert (admission.images, admission.bytes) == (0, 0)


def test_closing_twice_gives_back_once() -> None:
    admission = ImageAdmission(max_images=8, max_bytes=MB)
    keep = admission.admit(3)
    keep.charge(100)
    ticket = admission.admit(2)
    ticket.charge(500)
    ticket.close()
    ticket.close()
    assert (admission.images, admission.bytes) == (3, 100)
    keep.close()


def test_ticket_as_context_manager_closes_on_exception() -> None:
    admission = ImageAdmission(max_images=4, max_bytes=MB)
    with pytest.raises(RuntimeError, match="the request failed"), admission.admit(4) as ticket:
        assert isinstance(ticket, ImageTicket)
        ticket.charge(1000)
        assert (admission.images, admission.bytes) == (4, 1000)
        raise RuntimeError("the request failed")
    assert (admission.images, admission.bytes) == (0, 0)
    with admission.admit(4):  # all four images are free again
        pass


# --- DecodeBudget: memory for decoded pixels, shared by threads -----------------------------


class WatchedCondition(threading.Condition):
    """A Condition that says when a thread starts waiting on it (instrumentation only)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        self.waiting.set()
        return super().wait(timeout)


def watched(budget: DecodeBudget) -> WatchedCondition:
    condition = WatchedCondition()
    budget._changed = condition  # before any thread uses the budget
    return condition


def test_an_image_over_the_whole_budget_is_refused_at_once() -> None:
    budget = DecodeBudget(100 * MB)
    condition = watched(budget)
    with budget.hold(60 * MB, time.monotonic() + 10):
        started = time.monotonic()
        with (
            pytest.raises(
                ImageTooLarge, match=r"needs 101 MB, more than the 100 MB limit \(IMAGE_DECODE_MB\)"
            ),
            budget.hold(101 * MB, time.monotonic() + 60),
        ):
            pass
        assert time.monotonic() - started < 1.0
    assert condition.waits == 0  # refused without waiting for room that can never come
    assert budget.used == 0


def test_the_whole_budget_may_be_held_by_one_image() -> None:
    budget = DecodeBudget(100)
    with budget.hold(100, time.monotonic() + 10):
        assert budget.used == 100
    assert budget.used == 0


def test_a_decode_waits_for_room_and_a_late_one_times_out() -> None:
    """60 of 100 held: a second asking 50 waits (in its thread) until the first gives back;
    a third asking 50 meanwhile with a near deadline gets TimeoutError and takes nothing."""
    budget = DecodeBudget(100)
    condition = watched(budget)
    held, release = threading.Event(), threading.Event()
    order: list[str] = []
    used_inside: list[int] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with budget.hold(60, time.monotonic() + 10):
                held.set()
                assert release.wait(10)
                order.append("first leaves")
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        try:
            with budget.hold(50, time.monotonic() + 10):
                order.append("second enters")
                used_inside.append(budget.used)
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=first)
    two = threading.Thread(target=second)
    try:
        one.start()
        assert held.wait(10)
        two.start()
        assert condition.waiting.wait(10), "the second decode never waited"
        assert order == [] and budget.used == 60  # parked, holding nothing

        condition.waiting.clear()
        started = time.monotonic()
        with pytest.raises(TimeoutError), budget.hold(50, started + 0.3):
            pass
        waited = time.monotonic() - started
        assert 0.25 <= waited < 2, f"gave up after {waited:.2f} s, deadline 0.3 s"
        assert condition.waiting.is_set()  # it did wait, until its deadline
        with pytest.raises(TimeoutError), budget.hold(50, time.monotonic() - 1):
            pass  # a deadline already past: refused at once
        assert budget.used == 60
    finally:
        release.set()
        one.join(10)
        two.join(10)
    assert errors == []
    assert order == ["first leaves", "second enters"]
    assert used_inside == [50]  # the first's 60 were given back before the second took 50
    assert budget.used == 0


def test_room_is_taken_at_once_even_with_a_past_deadline() -> None:
    budget = DecodeBudget(100)
    with budget.hold(40, time.monotonic() - 1), budget.hold(60, time.monotonic() - 1):
        assert budget.used == 100


def test_an_exception_while_decoding_gives_the_memory_back() -> None:
    budget = DecodeBudget(100)
    with pytest.raises(ValueError, match="broken image"), budget.hold(70, time.monotonic() + 1):
        raise ValueError("broken image")
    assert budget.used == 0


def test_a_release_wakes_every_waiter_that_now_fits() -> None:
    budget = DecodeBudget(100)
    condition = watched(budget)
    release = threading.Event()
    inside: list[int] = []
    both_in = threading.Barrier(3, timeout=10)

    def big() -> None:
        with budget.hold(100, time.monotonic() + 10):
            release.wait(10)

    def small() -> None:
        with budget.hold(50, time.monotonic() + 10):
            inside.append(budget.used)
            both_in.wait()  # both halves are held at once

    threads = [threading.Thread(target=big)]
    threads[0].start()
    eventually_sync(lambda: budget.used == 100)
    threads += [threading.Thread(target=small) for _ in range(2)]
    for thread in threads[1:]:
        thread.start()
    try:
        eventually_sync(lambda: condition.waits >= 2)
        assert inside == []
        release.set()
        both_in.wait()
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    assert sorted(inside) == [50, 100]
    assert budget.used == 0


# --- ImageIntake against a real fetcher and the local server -------------------------------


@pytest.fixture(autouse=True)
def tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_tripwire(monkeypatch)


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[ImageServer]:
    async with serve_images() as state:
        yield state


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkPool]:
    work = WorkPool("parse", workers=1, max_waiting=16)
    yield work
    work.shutdown()


@pytest.fixture
async def fetcher() -> AsyncIterator[ImageFetcher]:
    fetcher = ImageFetcher(
        max_bytes=MAX_BYTES, timeout_s=5.0, max_redirects=3, policy=ONLY_127_0_0_1
    )
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


@pytest.fixture
def intake(fetcher: ImageFetcher, pool: WorkPool) -> ImageIntake:
    return ImageIntake(fetcher, max_bytes=MB, max_per_request=32, fetches_per_request=3, pool=pool)


@pytest.fixture
def admission() -> Iterator[ImageAdmission]:
    admission = ImageAdmission(max_images=64, max_bytes=64 * MB)
    yield admission
    assert (admission.images, admission.bytes) == (0, 0), "a ticket was left open"


def test_check_count(intake: ImageIntake) -> None:
    with pytest.raises(InvalidInput, match="no images given"):
        intake.check_count(0)
    intake.check_count(1)
    intake.check_count(32)
    with pytest.raises(InvalidInput, match=r"33 images in one request, more than the limit of 32 "):
        intake.check_count(33)
    with pytest.raises(InvalidInput, match=r"\(IMAGE_MAX_PER_REQUEST\)"):
        intake.check_count(1000)


async def test_many_fetches_at_most_its_share_at_once_and_keeps_order(
    intake: ImageIntake, fetcher: ImageFetcher, server: ImageServer, admission: ImageAdmission
) -> None:
    """fetches_per_request=3: ten URLs that wait until released; the server sees three at
    once from the one `many` call, and the ten answers come back in the order asked."""
    with open_gate("intake-share") as held, admission.admit(10) as ticket:
        urls = [server.url(f"/gate?name=intake-share&i={i}") for i in range(10)]
        loading = asyncio.create_task(intake.many(urls, ticket))
        try:
            await eventually(lambda: len(held.arrived) == 3, timeout=5)
            for _ in range(2):  # whole exchanges pass meanwhile: the others had every chance
                assert await asyncio.wait_for(fetcher.fetch(server.url("/image")), 5) == IMAGE
            assert len(held.arrived) == 3, "a request ran more fetches than its share"
            assert not loading.done()
            held.released.set()
            loaded, elapsed_ms = await asyncio.wait_for(loading, 10)
        finally:
            held.released.set()
            await asyncio.gather(loading, return_exceptions=True)
        expected = [IMAGE + str(i).encode() for i in range(10)]
        assert loaded == expected
        assert held.most == 3
        assert len(held.arrived) == 10
        assert elapsed_ms > 0
        assert ticket.charged == sum(map(len, expected))  # every fetched byte was charged
        assert admission.bytes == ticket.charged
    assert admission.bytes == 0


async def test_many_returns_each_failure_in_its_place(
    intake: ImageIntake, server: ImageServer, admission: ImageAdmission
) -> None:
    good = base64.b64encode(IMAGE).decode()
    sources: list[str | bytes] = [
        server.url("/image"),
        server.url("/missing.png"),
        f"data:image/png;base64,{good}",
        "not base64!",
        IMAGE,
        "ftp://127.0.0.1/image",
        bytes(MB + 1),
        server.url("/image"),
    ]
    with admission.admit(len(sources)) as ticket:
        loaded, _ = await intake.many(sources, ticket)
        assert len(loaded) == len(sources)
        assert loaded[0] == IMAGE
        assert isinstance(loaded[1], FetchError)
        assert str(loaded[1]) == "image URL answered HTTP 404"
        assert loaded[2] == IMAGE
        assert isinstance(loaded[3], InvalidImage)
        assert "not a URL, a data URL or valid base64" in str(loaded[3])
        assert loaded[4] == IMAGE
        assert isinstance(loaded[5], InvalidImage)
        assert "unsupported URL scheme 'ftp'" in str(loaded[5])
        assert isinstance(loaded[6], ImageTooLarge)
        assert "(IMAGE_MAX_MB)" in str(loaded[6])
        assert loaded[7] == IMAGE
        assert all(isinstance(item, (bytes, ServeError)) for item in loaded)
        assert ticket.charged == 4 * len(IMAGE)  # the four images that arrived, nothing else


async def test_many_returns_an_overloaded_image_in_its_place(
    intake: ImageIntake, server: ImageServer
) -> None:
    """IMAGE_MAX_PENDING_MB: the second image does not fit beside the first one."""
    admission = ImageAdmission(max_images=8, max_bytes=len(IMAGE) + 100)
    with admission.admit(2) as ticket:
        loaded, _ = await intake.many([IMAGE, IMAGE], ticket)
        assert loaded[0] == IMAGE
        assert isinstance(loaded[1], Overloaded)
        assert "(IMAGE_MAX_PENDING_MB)" in str(loaded[1])
        fetched = await asyncio.gather(
            intake.one(server.url("/image"), ticket), return_exceptions=True
        )
        assert isinstance(fetched[0], Overloaded)  # a fetched image is charged as it arrives
        assert ticket.charged <= len(IMAGE) + 100
    assert admission.bytes == 0


async def test_a_large_inline_image_is_decoded_on_the_pool_and_charged(
    intake: ImageIntake, admission: ImageAdmission, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real_parse = intake_module.parse_image_content

    def recorded(content: str, *, max_bytes: int) -> bytes | str:
        threads.append(threading.current_thread().name)
        return real_parse(content, max_bytes=max_bytes)

    monkeypatch.setattr(intake_module, "parse_image_content", recorded)
    data = random.Random(3).randbytes(300_000)
    encoded = base64.b64encode(data).decode()
    assert len(encoded) > INLINE_PARSE_CHARS
    small = base64.b64encode(IMAGE).decode()
    assert len(small) <= INLINE_PARSE_CHARS
    loop_thread = threading.current_thread().name
    with admission.admit(3) as ticket:
        assert await intake.one(encoded, ticket) == data
        assert ticket.charged == len(data)
        assert await intake.one(f"data:image/png;base64,{encoded}", ticket) == data
        assert ticket.charged == 2 * len(data)
        assert await intake.one(small, ticket) == IMAGE
        assert ticket.charged == 2 * len(data) + len(IMAGE)
        assert admission.bytes == ticket.charged
    assert threads[0].startswith("parse") and threads[1].startswith("parse")
    assert threads[2] == loop_thread  # a short one is parsed inline, on the loop


async def test_a_large_invalid_inline_image_fails_on_the_pool_without_a_charge(
    intake: ImageIntake, admission: ImageAdmission
) -> None:
    encoded = base64.b64encode(random.Random(4).randbytes(300_000)).decode()
    spoiled = encoded[:-100] + "*" + encoded[-99:]
    too_big = base64.b64encode(bytes(MB + 3)).decode()
    with admission.admit(2) as ticket:
        with pytest.raises(InvalidImage, match="valid base64"):
            await intake.one(spoiled, ticket)
        with pytest.raises(ImageTooLarge, match=r"\(IMAGE_MAX_MB\)"):
            await intake.one(too_big, ticket)
        assert ticket.charged == 0


async def test_one_refuses_a_missing_image(intake: ImageIntake, admission: ImageAdmission) -> None:
    with admission.admit(1) as ticket:
        for missing in (None, "", "  \n"):
            with pytest.raises(InvalidImage, match="no image given"):
                await intake.one(missing, ticket)
        assert await intake.one(IMAGE, ticket) == IMAGE
        assert ticket.charged == len(IMAGE)


async def test_two_requests_each_get_their_own_share(
    intake: ImageIntake, fetcher: ImageFetcher, server: ImageServer, admission: ImageAdmission
) -> None:
    """The share is per `many` call: two requests of five slow URLs run three each."""
    with contextlib.ExitStack() as stack:
        held = stack.enter_context(open_gate("two-requests"))
        tickets = [stack.enter_context(admission.admit(5)) for _ in range(2)]
        calls = [
            asyncio.create_task(
                intake.many(
                    [server.url(f"/gate?name=two-requests&i={n}{i}") for i in range(5)], ticket
                )
            )
            for n, ticket in enumerate(tickets)
        ]
        try:
            await eventually(lambda: len(held.arrived) == 6, timeout=5)
            for _ in range(2):  # whole exchanges pass meanwhile: the others had every chance
                assert await asyncio.wait_for(fetcher.fetch(server.url("/image")), 5) == IMAGE
            assert len(held.arrived) == 6
            held.released.set()
            results = await asyncio.wait_for(asyncio.gather(*calls), 10)
        finally:
            held.released.set()
            await asyncio.gather(*calls, return_exceptions=True)
    assert held.most == 6
    for n, (loaded, _) in enumerate(results):
        assert loaded == [IMAGE + f"{n}{i}".encode() for i in range(5)]
