"""The offline terminal adapter: the same dialogue, buttons shown as numbered choices, no Telegram at all."""
