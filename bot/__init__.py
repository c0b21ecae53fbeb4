"""The stock bot: consumes chat:bot, fetches quotes and posts its replies to the channel."""
