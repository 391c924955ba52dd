"""keras_hpx.tensorboard."""
