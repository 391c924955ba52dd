"""A recorded learning-curve benchmark for multi-fidelity search (issue 12).

- `record.py`: trains every configuration of a 1,008-configuration space of Keras MLPs for
  27 epochs on two datasets and stores the per-epoch curves in `data/` (`.npz`, no pickle).
- `replay.py`: `CurveTable` (the stored curves) and drivers that replay them through any
  Keras Tuner oracle (with keras-hpx's `WeakTrialStopping`), Keras Tuner's Hyperband and
  Optuna, counting epochs as if training.
- `methods.py`: the registry of compared methods.

`benchmarks/multi_fidelity_benchmark.py` runs them side by side.
"""
