"""`python -m kvabench ...` is the `kvabench` console command."""
import sys

from .cli import main

sys.exit(main())
