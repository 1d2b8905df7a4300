"""HTTP API of the support copilot (FastAPI); business logic stays in the `copilot` package."""
