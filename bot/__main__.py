"""`python -m bot`: the bot alone, the same as `investor-chat bot`."""

from bot.runner import run
from core.process import worker_main

worker_main("bot", run)
