"""`python -m grader` runs the command-line interface."""

import sys

from grader.cli import main

sys.exit(main())
