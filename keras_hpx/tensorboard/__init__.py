"""keras_hpx.tensorboard: TensorBoard HParams records written without TensorFlow.

- `keras_hpx.tensorboard.hparams`: domains from a `Space`, experiment / session
  start / session end records, lazily created event files, a reader.

It imports neither TensorFlow nor Keras. The harness that starts a real
`tensorboard` and queries its HParams plugin (for tests, screenshots and
benchmarks) is `keras_hpx.testing.tensorboard_server`.
"""
