import sys

from keras_hpx.cli import main

sys.exit(main())
