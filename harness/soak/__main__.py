import sys

from harness.soak import main

sys.exit(main())
