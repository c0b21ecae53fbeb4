"""`python -m archiver`: the same as `investor-chat archiver`."""

from server.cli import main

main(["archiver"])
