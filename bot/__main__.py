"""`python -m bot` runs the same command line as `scorebot`."""

from bot.cli import main

if __name__ == "__main__":  # also imported by the matcher's worker processes, which must not run the CLI
    raise SystemExit(main())
