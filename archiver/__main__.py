"""`python -m archiver`: the same as `investor-chat archiver`."""

import sys

from server.cli import main

main(["archiver", *sys.argv[1:]])
