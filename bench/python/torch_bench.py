"""PyTorch side of the GPU harness (bench/gpu-bench.sh; GpuBench runs it after the Java side, in the same call).

Derived from shared/reference/torch_workloads.py: the same model definitions (ClassificationViT, BertViT, Seq2Seq)
and the same timing method (CUDA-event-timed steps after warm-up, median; AdamW training steps on synthetic data
that stays on the GPU). TF32 is off, so "fp32" is true float32 on both sides.

  python3 torch_bench.py --json OUT.json [--workloads vit128,vit1024,bert,s2s,attn]
                         [--variants eager-fp32,eager-bf16,compile-bf16,compile-ro-bf16] [--budget-s 420]

Eager variants of every workload run first; torch.compile variants follow while the time budget lasts (a variant
that would start after the budget is skipped and listed as skipped). One JSON line per result on stdout as well.
"""
import argparse, json, math, os, statistics, sys, time, traceback
import torch, torch.nn as nn, torch.nn.functional as F

dev = 'cuda'
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
RESULTS = []


def patchify(x, p):
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


class ClassificationViT(nn.Module):  # emb 256, 4 layers, 4 heads, ffn 1024, gelu, patch 4
    def __init__(self, n_classes=10, dim=256, layers=4, heads=4, ffn=1024, patch=4, img=32, ch=3):
        super().__init__()
        n = (img // patch) ** 2
        self.patch = patch
        self.proj = nn.Linear(patch * patch * ch, dim)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * .02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * .02)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, heads, ffn, 0.0, F.gelu, batch_first=True), layers)
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, n_classes))

    def forward(self, x):
        t = self.proj(patchify(x, self.patch))
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], 1) + self.pos
        return self.head(self.enc(t)[:, 0])


class BertViT(nn.Module):  # BertConfig hidden 256, 12 layers, 8 heads, ffn 1024, conv patch 4
    def __init__(self):
        super().__init__()
        from transformers import BertConfig, BertModel
        cfg = BertConfig(hidden_size=256, intermediate_size=1024, num_hidden_layers=12, num_attention_heads=8,
                         max_position_embeddings=256, vocab_size=100)
        self.bert = BertModel(cfg)
        self.patch = nn.Conv2d(3, 256, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, 256) / 16)
        self.readout = nn.Sequential(nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 10))

    def forward(self, x):
        p = self.patch(x).flatten(2).permute(0, 2, 1)
        e = torch.cat([self.cls.expand(x.shape[0], 1, -1), p], 1)
        return self.readout(self.bert(inputs_embeds=e).last_hidden_state[:, 0])


class Seq2Seq(nn.Module):  # summarization model (post-LN, learned positions, tied embeddings)
    def __init__(self, vocab=32128, dim=512, layers=4, heads=8, ffn=2048, max_len=1024):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim); self.pos = nn.Embedding(max_len, dim); self.ln = nn.LayerNorm(dim)
        self.tf = nn.Transformer(dim, heads, layers, layers, ffn, 0.1, batch_first=True)
        self.head = nn.Linear(dim, vocab, bias=True); self.head.weight = self.emb.weight

    def forward(self, src, tgt_in, labels):
        ps = torch.arange(src.shape[1], device=src.device); pt = torch.arange(tgt_in.shape[1], device=src.device)
        s = self.ln(self.emb(src) + self.pos(ps)); t = self.ln(self.emb(tgt_in) + self.pos(pt))
        mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1], device=src.device)
        h = self.tf(s, t, tgt_mask=mask, tgt_is_causal=True)
        return F.cross_entropy(self.head(h).flatten(0, 1), labels.flatten())


PEAK = [0, 0]  # max_memory_allocated and max_memory_reserved over the timed steps (after warm-up: compilation's own
# buffers left out). Under reduce-overhead the first misses what CUDA graph trees keep in their private pools (vit128's
# 38 MiB was less than its own weights, gradients and Adam moments, 49 MiB), so the second is recorded beside it.


def time_steps(step, warm=10, iters=40):
    for _ in range(warm): step()
    ts = []
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    for _ in range(iters):
        a = torch.cuda.Event(enable_timing=True); b = torch.cuda.Event(enable_timing=True)
        a.record(); step(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b) / 1e3)
    PEAK[0] = torch.cuda.max_memory_allocated()
    PEAK[1] = torch.cuda.max_memory_reserved()
    return statistics.median(ts), min(ts), max(ts)


VARIANTS = {  # name -> (autocast bf16, compile, compile mode)
    'eager-fp32': (False, False, None), 'eager-bf16': (True, False, None),
    'compile-bf16': (True, True, None), 'compile-ro-bf16': (True, True, 'reduce-overhead')}


def params_of(m):
    return sum(p.numel() for p in m.parameters())


def record(r):
    if 'step_ms' in r:
        r['peak_mib'] = round(PEAK[0] / 2**20, 1)
        r['reserved_peak_mib'] = round(PEAK[1] / 2**20, 1)
    RESULTS.append(r); print(json.dumps(r), flush=True)


def bench_classifier(key, make, batch, variant, iters=40):
    bf16, compile_, cmode = VARIANTS[variant]
    torch.manual_seed(0)
    m = make().to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05, fused=True)
    f = (torch.compile(m, mode=cmode) if cmode else torch.compile(m)) if compile_ else m
    x = torch.randn(batch, 3, 32, 32, device=dev); y = torch.randint(0, 10, (batch,), device=dev)

    with_grad = []

    def step():
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(f(x), y)
        loss.backward()
        if not with_grad: with_grad.append(sum(p.numel() for p in m.parameters() if p.grad is not None))
        opt.step(); opt.zero_grad(set_to_none=True)
    t0 = time.time()
    med, lo, hi = time_steps(step, warm=(15 if compile_ else 10), iters=iters)
    record(dict(key=key, variant=variant, batch=batch, step_ms=med * 1e3, min_ms=lo * 1e3, max_ms=hi * 1e3,
                unit='images/s', throughput=batch / med, params=params_of(m), params_with_grad=with_grad[0],
                wall_s=round(time.time() - t0, 1)))


def bench_seq2seq(variant, batch=16, src_len=512, tgt_len=64, iters=30):
    bf16, compile_, cmode = VARIANTS[variant]
    torch.manual_seed(0)
    m = Seq2Seq().to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01, fused=True)
    f = (torch.compile(m, mode=cmode) if cmode else torch.compile(m)) if compile_ else m
    src = torch.randint(1, 32128, (batch, src_len), device=dev); tin = torch.randint(1, 32128, (batch, tgt_len), device=dev)
    lab = torch.randint(1, 32128, (batch, tgt_len), device=dev)

    def step():
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=bf16):
            loss = f(src, tin, lab)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    t0 = time.time()
    med, lo, hi = time_steps(step, warm=(15 if compile_ else 8), iters=iters)
    record(dict(key='s2s', variant=variant, batch=batch, step_ms=med * 1e3, min_ms=lo * 1e3, max_ms=hi * 1e3,
                unit='tokens/s', throughput=batch * (src_len + tgt_len) / med, params=params_of(m),
                wall_s=round(time.time() - t0, 1)))


def bench_attention(variant, B=128, H=4, D=64, lengths=(65, 257, 1024, '1024c'), iters=30):
    """Forward + backward of F.scaled_dot_product_attention (no mask; '1024c': is_causal); FLOPs counted as 4 B H L^2 D
    forward and 8 B H L^2 D backward (the five products of attention, without recomputation), halved when causal, the
    same count as the Java side."""
    bf16, compile_, _ = VARIANTS[variant]
    if compile_:
        return
    dt = torch.bfloat16 if bf16 else torch.float32
    for key in lengths:
        causal = str(key).endswith('c')
        L = int(str(key).rstrip('c'))
        torch.manual_seed(0)
        q, k, v = (torch.randn(B, H, L, D, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
        g = torch.randn(B, H, L, D, device=dev, dtype=dt)

        def step():
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            o.backward(g)
            q.grad = k.grad = v.grad = None
        med, lo, hi = time_steps(step, warm=10, iters=iters)
        flops = 12.0 * B * H * L * L * D / (2 if causal else 1)
        record(dict(key=f'attn{key}', variant=variant, batch=B, step_ms=med * 1e3, min_ms=lo * 1e3, max_ms=hi * 1e3,
                    unit='TFLOP/s', throughput=flops / med / 1e12, params=0))
        del q, k, v, g
        torch.cuda.empty_cache()


def run(key, variant):
    if key == 'vit128':
        bench_classifier('vit128', ClassificationViT, 128, variant)
    elif key == 'vit1024':
        bench_classifier('vit1024', ClassificationViT, 1024, variant, iters=20)
    elif key == 'bert':
        bench_classifier('bert', BertViT, 192, variant)
    elif key == 's2s':
        bench_seq2seq(variant)
    elif key == 'attn':
        bench_attention(variant)
    else:
        raise SystemExit('unknown workload ' + key)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--json', default=os.path.join(os.environ.get('OUT', '.'), 'torch_bench.json'))
    ap.add_argument('--workloads', default='vit128,vit1024,bert,s2s,attn')
    ap.add_argument('--variants', default='eager-fp32,eager-bf16,compile-bf16,compile-ro-bf16')
    ap.add_argument('--budget-s', type=float, default=420.0, help='skip variants that would start after this many seconds')
    a = ap.parse_args()
    start = time.time()
    info = dict(torch=torch.__version__, cuda=torch.version.cuda, gpu=torch.cuda.get_device_name(0))
    print(json.dumps(info), flush=True)
    workloads = a.workloads.split(','); variants = a.variants.split(',')
    skipped = []
    # eager first (cheap), then compiled variants while the budget lasts
    order = [(w, v) for v in variants if not VARIANTS[v][1] for w in workloads] + \
            [(w, v) for v in variants if VARIANTS[v][1] for w in workloads if w != 'attn']
    for w, v in order:
        if time.time() - start > a.budget_s:
            skipped.append(f'{w}/{v}'); continue
        try:
            run(w, v)
        except Exception as e:  # one failing variant must not lose the others
            traceback.print_exc()
            record(dict(key=w, variant=v, error=f'{type(e).__name__}: {e}'[:300]))
        torch.cuda.empty_cache()
    with open(a.json, 'w') as fh:
        json.dump(dict(info=info, results=RESULTS, skipped=skipped, wall_s=round(time.time() - start, 1)), fh, indent=1)
    if skipped: print('skipped (time budget):', ' '.join(skipped), flush=True)


if __name__ == '__main__':
    main()
