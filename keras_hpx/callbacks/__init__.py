"""keras_hpx.callbacks."""
