"""Eight real worker processes and a few hundred near-instant trials per oracle."""

from pathlib import Path

import pytest

from keras_hpx.testing.load import run_load

SCRIPT = str(Path(__file__).parents[1] / "scripts" / "load_search.py")
TRIALS = {"grid": 150, "random": 150, "bayes": 60}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TRIALS))
def test_eight_workers_lose_nothing_repeat_nothing_and_the_idle_chief_does_not_spin(tmp_path, name):
    result, report = run_load(SCRIPT, name, 8, TRIALS[name], str(tmp_path), timeout=540)
    assert report is not None, result.report()
    print(report)
    assert report.trials == report.completed == TRIALS[name]
    assert report.duplicates == 0 and report.lost == 0
    assert report.stopped_early == 0, "a worker was told STOPPED while trials were handed out"
    assert report.idle_chief_cpu < 0.5, f"the chief spun at {report.idle_chief_cpu:.0%} of a core"
