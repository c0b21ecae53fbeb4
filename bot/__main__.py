"""`python -m bot`: the same as `investor-chat bot`."""

from server.cli import main

main(["bot"])
