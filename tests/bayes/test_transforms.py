import numpy as np

from keras_hpx.bayes.transforms import clean_scores, warp_scores


def test_clean_scores():
    out = clean_scores([1.0, float("nan"), None, 3.0, float("-inf"), "x"])
    np.testing.assert_array_equal(out, [1.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    assert np.all(np.isnan(clean_scores([None, float("nan")])))
    assert clean_scores([]).shape == (0,)


def test_warp_scores_is_monotone_and_tames_a_long_tail():
    y = np.array([0.4, 0.5, 0.9, 2.0, 8.0, 300.0])
    w = warp_scores(y)
    assert np.all(np.diff(w) > 0)  # the ranking is kept
    z = (y - y.mean()) / y.std()
    # The outlier no longer squeezes the good scores together.
    assert (w[1] - w[0]) / np.ptp(w) > 5 * (z[1] - z[0]) / np.ptp(z)
    np.testing.assert_array_equal(warp_scores(np.array([1.0, 1.0, 2.0])), [1.0, 1.0, 2.0])
