"""`python -m server`: the same command line as `investor-chat`."""

from server.cli import main

main()
