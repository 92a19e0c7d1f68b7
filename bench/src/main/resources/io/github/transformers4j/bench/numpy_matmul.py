# Times numpy's float32 a @ b for CpuMatmulBench: python3 numpy_matmul.py M K N WARMUP ITERS [nn|ta|tb]
# ("ta": a is stored K x M and used as a.T, a weight gradient's layout; "tb": b is stored N x K and used as b.T, a
# linear layer's x @ W^T; numpy hands BLAS the transpose flag, no copy)
# Prints "blas <which BLAS and kernel>" and then one line: "numpy <version> median_s <s> min_s <s> max_s <s>".
import os
import sys
import time

import numpy as np

m, k, n, warmup, iters = (int(x) for x in sys.argv[1:6])
layout = sys.argv[6] if len(sys.argv) > 6 else "nn"


def blas():
    """The BLAS numpy calls and the kernel it picked (threadpoolctl when installed), and a forced OPENBLAS_CORETYPE
    (CpuMatmulBench takes it out of this script's environment; run by hand, it may be set)."""
    forced = os.environ.get("OPENBLAS_CORETYPE")
    note = f", OPENBLAS_CORETYPE={forced} (forced)" if forced else ""
    try:
        import threadpoolctl
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas":
                return f"{info.get('internal_api')} {info.get('version')}, kernel {info.get('architecture')}, {info.get('num_threads')} threads{note}"
    except ImportError:
        pass
    return f"kernel unknown (no threadpoolctl){note}"


rng = np.random.default_rng()
a = rng.uniform(-1, 1, (k, m)).astype(np.float32).T if layout == "ta" else rng.uniform(-1, 1, (m, k)).astype(np.float32)
b = rng.uniform(-1, 1, (n, k)).astype(np.float32).T if layout == "tb" else rng.uniform(-1, 1, (k, n)).astype(np.float32)
for _ in range(warmup):
    a @ b
times = []
for _ in range(iters):
    t = time.perf_counter()
    a @ b
    times.append(time.perf_counter() - t)
times.sort()
print("blas " + blas())
print(f"numpy {np.__version__} median_s {times[len(times) // 2]:.9f} min_s {times[0]:.9f} max_s {times[-1]:.9f}")
