"""Triage: the first-line bot's reading of an incoming conversation (the learned model and the engine that
adds the rules, the route and the reply)."""
