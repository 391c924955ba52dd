import os

# Quiet TensorFlow's start-up logs; the backend itself comes from the environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
