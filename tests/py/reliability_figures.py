"""reliability_figures.py: the figures the reliability tests measure.

Each figure goes to build/reliability-figures.txt, one line per figure,
tagged with the run it comes from ([normal] or [asan], as `make test` runs
the suite twice), and is printed to the terminal as it comes, whatever
pytest's capture setting. A run replaces its own earlier lines in the file
and keeps the other run's.
"""
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(ROOT, "build", "reliability-figures.txt")
RUN = "asan" if "libasan" in os.environ.get("LD_PRELOAD", "") else "normal"

_fresh = True  # the first figure of this process drops this run's old lines


def _start_file():
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    try:
        with open(PATH) as f:
            kept = [line for line in f if not line.startswith(f"[{RUN}]")]
    except FileNotFoundError:
        kept = []
    kept.append(f"[{RUN}] run of {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    with open(PATH, "w") as f:
        f.writelines(kept)


def record(capsys, name, **figures):
    """Writes `name: key=value, ...` to the figures file and the terminal."""
    global _fresh
    if _fresh:
        _start_file()
        _fresh = False
    line = f"[{RUN}] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    with open(PATH, "a") as f:
        f.write(line + "\n")
    with capsys.disabled():
        print("\n  figure " + line, flush=True)
