"""Compose: the acts a moment needs (greet, show empathy, answer, ask, hold back), and the `ChatModel` seam
that writes them: the local composer, any OpenAI-compatible endpoint behind a circuit breaker, the scripted
double."""
