import time

from tgnlib.timing import best_of


def test_best_of_takes_the_fastest_timed_call_after_the_warm_up():
    calls, delays = [], iter([0.05, 0.0, 0.02, 0.01])

    def fn():
        calls.append(1)
        time.sleep(next(delays))

    t = best_of(fn, repeats=3, warmup=1)  # the 0.05 s warm-up is not timed
    assert len(calls) == 4 and t < 0.009
