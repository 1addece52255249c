"""python -m we_will_lock_you.bench (see run.py; workers need an importable module, not __main__)."""

import sys

from .run import main

sys.exit(main())
