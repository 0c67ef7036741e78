#!/usr/bin/env python3
"""A week of a 1,000-host relay for `sessionwatch report`: gen_jsonl.py's traffic (same hosts,
sessions and 7063 events), its clock stretched so that N events span seven days.

Usage: report_week.py GEN_JSONL N OUT.jsonl [--hosts H] [--days D]
  GEN_JSONL: path of ../shared/bench/gen_jsonl.py (used as is, only its clock is slowed).
"""
import argparse
import importlib.util
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gen_jsonl")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--days", type=int, default=7)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("gen_jsonl", a.gen_jsonl)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    # gen_jsonl advances 0-9 ms per event; spread the N events over the days asked instead.
    mean_step_ms = a.days * 86400 * 1000 // max(a.n, 1)
    tick = gen.Gen.ts

    def slower_ts(self):
        self.t_ms += self.r.randint(0, 2 * mean_step_ms)
        return tick(self)

    gen.Gen.ts = slower_ts
    sys.argv = [a.gen_jsonl, str(a.n), a.out, "--hosts", str(a.hosts)]
    gen.main()


if __name__ == "__main__":
    main()
