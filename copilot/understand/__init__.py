"""Understand: the customer's need, the answer that surely meets it (or the question to ask), the mood, the
language, how to address the customer, the instructions aimed at the bot and the personal data to mask."""
