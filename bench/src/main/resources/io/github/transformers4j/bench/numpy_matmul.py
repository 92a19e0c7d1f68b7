# Times numpy's float32 a @ b for CpuMatmulBench: python3 numpy_matmul.py SIZE WARMUP ITERS
# Prints one line: "numpy <version> median_s <seconds> min_s <seconds> max_s <seconds>".
import sys
import time

import numpy as np

n, warmup, iters = (int(x) for x in sys.argv[1:4])
rng = np.random.default_rng()
a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
for _ in range(warmup):
    a @ b
times = []
for _ in range(iters):
    t = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t)
times.sort()
print(f"numpy {np.__version__} median_s {times[len(times) // 2]:.9f} min_s {times[0]:.9f} max_s {times[-1]:.9f}")
