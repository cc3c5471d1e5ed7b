"""Compare two drmsim results files (results.csv or results_long.csv) cell by cell, ignoring
the wall-clock provenance columns (started_at, finished_at, command_line, cpu_count), which
differ between any two runs of the same point. Exits 1 on the first difference."""
import csv
import sys

WALL_CLOCK = {"started_at", "finished_at", "command_line", "cpu_count"}


def rows(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        keep = [c for c in r.fieldnames if c not in WALL_CLOCK]
        return keep, [{c: row[c] for c in keep} for row in r]


def main(a, b):
    ca, ra = rows(a)
    cb, rb = rows(b)
    if ca != cb:
        sys.exit(f"columns differ:\n  {a}: {ca}\n  {b}: {cb}")
    if len(ra) != len(rb):
        sys.exit(f"{a} has {len(ra)} rows, {b} has {len(rb)}")
    for i, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            diff = {c: (x[c], y[c]) for c in ca if x[c] != y[c]}
            sys.exit(f"row {i + 1} differs: {diff}")
    print(f"equal: {a} and {b} ({len(ra)} rows, {len(ca)} columns compared)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
