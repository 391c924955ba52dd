"""keras_hpx.oracles."""
