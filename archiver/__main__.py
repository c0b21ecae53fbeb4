"""`python -m archiver`: the archiver alone, the same as `investor-chat archiver`."""

from archiver.runner import run
from core.process import worker_main

worker_main("archiver", run)
