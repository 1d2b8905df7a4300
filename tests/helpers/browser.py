"""The browser tests' shared settings."""

TIMEOUT_MS = 30_000  # how long a page may take to show what a test waits for
