"""keras_hpx.tensorboard: TensorBoard HParams records written without TensorFlow.

- `keras_hpx.tensorboard.hparams`: domains from a `Space`, experiment / session
  start / session end records, lazily created event files, a reader.
- `keras_hpx.tensorboard.server`: start a real `tensorboard` on 127.0.0.1 and query
  its HParams plugin (tests, screenshots, benchmarks).

Neither imports TensorFlow or Keras.
"""
