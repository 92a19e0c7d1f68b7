#!/usr/bin/env bash
# What cuDNN offers on the GPU machine, for the cuDNN SDPA path (issue 12): the libraries and versions there, the
# headers of python3's cuDNN, which backend PyTorch's scaled_dot_product_attention picks by default, and the backend
# API log (every descriptor cuDNN finalizes) of PyTorch's cuDNN attention, forward and backward, causal and not.
# Usage on the device: bash tools/device/cudnn-probe.sh   (writes $OUT/cudnn-probe/)
set -uo pipefail
P=$OUT/cudnn-probe; mkdir -p "$P"
ls -la /usr/lib/x86_64-linux-gnu/libcudnn* > "$P/system-libs.txt" 2>&1
D=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null)
echo "python cudnn: $D" >> "$P/system-libs.txt"; ls -la "$D/lib" "$D/include" >> "$P/system-libs.txt" 2>&1
cp "$D"/include/cudnn_graph*.h "$D"/include/cudnn_version*.h "$D"/include/cudnn_backend*.h "$P/" 2>/dev/null
cat > /tmp/sdpa_probe.py <<'PY'
import sys, torch, torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
B, H, Sq, Sk, D, causal, backend = sys.argv[1:8]
B, H, Sq, Sk, D, causal = int(B), int(H), int(Sq), int(Sk), int(D), bool(int(causal))
print(torch.__version__, "cudnn", torch.backends.cudnn.version(), torch.cuda.get_device_name())
mk = lambda S: torch.randn(B, S, H, D, device="cuda", dtype=torch.bfloat16).transpose(1, 2).requires_grad_()
q, k, v = mk(Sq), mk(Sk), mk(Sk)
ctx = sdpa_kernel(getattr(SDPBackend, backend)) if backend != "DEFAULT" else torch.autograd.profiler.profile(use_device="cuda")
with ctx as prof:
    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    o.float().sum().backward()
torch.cuda.synchronize()
if backend == "DEFAULT":
    names = sorted({e.key for e in prof.key_averages() if any(w in e.key.lower() for w in ("attention", "flash", "cudnn", "fmha"))})
    print("default backend ops:", names)
r = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal)
print("max |o - fp32|", (o.float() - r).abs().max().item())
PY
for cfg in "128 4 257 257 64 0" "128 4 1024 1024 64 1"; do
  echo "== default, $cfg" >> "$P/default.txt"; python3 /tmp/sdpa_probe.py $cfg DEFAULT >> "$P/default.txt" 2>&1
done
i=0
for cfg in "2 4 256 256 64 1" "2 4 100 200 64 0" "2 4 257 257 64 0"; do
  i=$((i + 1))
  CUDNN_LOGLEVEL_DBG=3 CUDNN_LOGDEST_DBG="$P/backend$i.log" CUDNN_FRONTEND_LOG_INFO=1 CUDNN_FRONTEND_LOG_FILE="$P/frontend$i.log" \
    python3 /tmp/sdpa_probe.py $cfg CUDNN_ATTENTION > "$P/run$i.txt" 2>&1
  echo "cfg $i ($cfg): $(tail -1 "$P/run$i.txt")"
done
tar czf "$OUT/cudnn-probe.tgz" -C "$OUT" cudnn-probe && rm -rf "$P"
