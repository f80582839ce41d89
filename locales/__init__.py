"""gettext catalogues (<lang>/LC_MESSAGES/bot.po), read by bot.i18n."""
