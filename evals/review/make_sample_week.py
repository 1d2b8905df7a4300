"""Write the sample week the README imports (evals/review/sample_week.jsonl), from the bench's generator.

    python -m evals.review.make_sample_week                         # the shipped file: 300 conversations
    python -m evals.review.make_sample_week --end today --out week.jsonl --count 1000
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from bench.week import write_week

SAMPLE = Path(__file__).with_name("sample_week.jsonl")
END = date(2026, 11, 22)  # a Sunday: the week of Monday 16 to Sunday 22 November 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--end", default=END.isoformat(), help="The week's last day (YYYY-MM-DD or today).")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=SAMPLE)
    options = parser.parse_args()
    end = date.today() if options.end == "today" else date.fromisoformat(options.end)
    print(
        f"{write_week(options.out, options.count, end, options.seed)} conversations written to {options.out}"
    )


if __name__ == "__main__":
    main()
