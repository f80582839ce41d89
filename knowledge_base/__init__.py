"""The good-practice library: data files, loaded by bot.services.library."""
