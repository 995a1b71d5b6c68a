"""Run a command and print ``<seconds> <peak RSS MB>`` of it (used by run.py; Linux ru_maxrss is KiB)."""

import resource
import subprocess
import sys
import time

start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if proc.returncode not in (0, 2, 3):
    sys.stderr.write(proc.stderr)
    sys.exit(proc.returncode)
print(f"{elapsed:.3f} {peak:.1f}")
