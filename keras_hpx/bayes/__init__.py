"""keras_hpx.bayes."""
