"""`python -m bot`: the same as `investor-chat bot`."""

import sys

from server.cli import main

main(["bot", *sys.argv[1:]])
