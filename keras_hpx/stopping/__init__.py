"""keras_hpx.stopping."""
