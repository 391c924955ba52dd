"""keras_hpx.testing."""
