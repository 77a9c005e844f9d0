"""Transfer stats: speed over a window and ETA, with an injected clock (no sleeping, no timing)."""

from __future__ import annotations

from tui.transfer.stats import Stats


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_speed_eta_and_rewind() -> None:
    clock = Clock()
    st = Stats(clock=clock, window=3.0, total=1000)
    st.sample()
    assert st.speed == 0.0 and st.eta is None
    clock.now += 1.0
    st.add(100)
    st.sample()
    assert st.speed == 100.0
    assert st.eta == 9.0
    st.add(-50)  # a retry takes back what it had counted
    assert st.done == 50
    st.add(-500)
    assert st.done == 0  # never negative
    st.add(2000)
    assert st.fraction == 1.0  # never past 100 %


def test_window_forgets_old_samples() -> None:
    clock = Clock()
    st = Stats(clock=clock, window=2.0, total=10_000)
    st.sample()
    for _ in range(5):
        clock.now += 1.0
        st.add(100)
        st.sample()
    clock.now += 1.0
    st.add(1000)  # a burst in the last second
    st.sample()
    # only the samples of the last 2 s count: 400 bytes done at t=104, 1500 at t=106
    assert st.speed == (1500 - 400) / 2.0
