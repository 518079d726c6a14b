"""mailcti benchmark harness: shared pieces used by scripts/bench.

Every benchmark measures ratios side by side in one run (interleaved
repetitions) and prints a table of medians; nothing here is pass/fail.
"""
