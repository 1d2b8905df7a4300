"""`copilot bench`: what an agent waits for, on this machine, written to BENCHMARKS.md."""

from copilot.bench.inprocess import eval_speed, markdown, percentiles, run_bench

__all__ = ["eval_speed", "markdown", "percentiles", "run_bench"]
