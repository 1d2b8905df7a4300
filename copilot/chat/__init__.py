"""Chat models behind one seam: the local composer (default, offline) and any OpenAI-compatible endpoint."""
