import numpy as np

from keras_hpx.bayes.transforms import clean_scores, mean_and_std, warp_scores


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


def test_warp_scores_only_if_needed_keeps_gaussian_scores_affine():
    rng = np.random.default_rng(0)
    gaussian = rng.normal(size=40)
    z = (gaussian - gaussian.mean()) / gaussian.std()
    # The test does not reject the identity: standardised scores, an affine map.
    np.testing.assert_allclose(warp_scores(gaussian, only_if_needed=True), z)
    assert not np.allclose(warp_scores(gaussian), z)  # the plain warp still bends them
    # A long tail (scores spanning decades) rejects it: warped as without the test.
    skewed = np.exp(rng.normal(scale=2.0, size=40))
    np.testing.assert_allclose(warp_scores(skewed, only_if_needed=True), warp_scores(skewed))
    zs = (skewed - skewed.mean()) / skewed.std()
    assert not np.allclose(warp_scores(skewed, only_if_needed=True), zs)


def test_scores_of_any_scale_are_standardised_alike():
    # np.std squares deviations: near 1e-200 they underflow to 0, near 1e200 overflow.
    rng = np.random.default_rng(0)
    y = rng.lognormal(size=12)
    mean, std = mean_and_std(y)
    assert mean == np.mean(y) and std == np.std(y)  # ordinary scales: numpy's own values
    for scale in (1e-200, 1e-300, 1e200, 1e300):
        m, s = mean_and_std(scale * y)
        assert np.isclose(m, scale * mean, rtol=1e-12) and np.isclose(s, scale * std, rtol=1e-12)
        assert np.allclose(warp_scores(scale * y), warp_scores(y), atol=1e-9)
    assert mean_and_std(np.full(4, 1e-200)) == (1e-200, 0.0)
    assert mean_and_std(np.array([])) == (0.0, 0.0)
