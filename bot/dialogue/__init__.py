"""The guided conversation as a state machine over the domain; knows nothing of Telegram."""
