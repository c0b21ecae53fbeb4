"""Web-free core shared by the server, the bot and the archiver: settings, models, store and bus."""
