"""`python -m bot` runs the same command line as `scorebot`."""

from bot.cli import main

raise SystemExit(main())
