"""`copilot bench`: what an agent waits for on this machine (drafts in-process and over HTTP, search at 1k to
100k chunks, ingest, the copilot's own time in front of an LLM, cold start, memory, a load test), written to
BENCHMARKS.md with every goal and its measured value."""

from bench.report import goals, markdown
from bench.runner import BenchConfig, BenchResults, run_bench
from bench.stats import percentiles

__all__ = ["BenchConfig", "BenchResults", "goals", "markdown", "percentiles", "run_bench"]
