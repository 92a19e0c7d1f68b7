"""Where PyTorch's step spends device time: torch.profiler over a few steps of one workload and variant of
torch_bench.py (same models, same step), kernels grouped by name, device time per step. A diagnostic, not a benchmark.

  python3 torch_profile.py --workload vit1024 --variant compile-bf16 [--steps 5] [--top 30]
"""
import argparse, sys, os
import torch
from torch.profiler import profile, ProfilerActivity
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench as tb


def make_step(key, variant):
    bf16, compile_, cmode = tb.VARIANTS[variant]
    torch.manual_seed(0)
    if key == 's2s':
        m = tb.Seq2Seq().to(tb.dev)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01, fused=True)
        f = (torch.compile(m, mode=cmode) if cmode else torch.compile(m)) if compile_ else m
        src = torch.randint(1, 32128, (16, 512), device=tb.dev); tin = torch.randint(1, 32128, (16, 64), device=tb.dev)
        lab = torch.randint(1, 32128, (16, 64), device=tb.dev)
        run = lambda: f(src, tin, lab)
    else:
        make, batch = {'vit128': (tb.ClassificationViT, 128), 'vit1024': (tb.ClassificationViT, 1024), 'bert': (tb.BertViT, 192)}[key]
        m = make().to(tb.dev)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05, fused=True)
        f = (torch.compile(m, mode=cmode) if cmode else torch.compile(m)) if compile_ else m
        x = torch.randn(batch, 3, 32, 32, device=tb.dev); y = torch.randint(0, 10, (batch,), device=tb.dev)
        run = lambda: torch.nn.functional.cross_entropy(f(x), y)

    def step():
        with torch.autocast(tb.dev, dtype=torch.bfloat16, enabled=bf16):
            loss = run()
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--workload', default='vit1024'); ap.add_argument('--variant', default='compile-bf16')
    ap.add_argument('--steps', type=int, default=5); ap.add_argument('--top', type=int, default=30)
    a = ap.parse_args()
    step = make_step(a.workload, a.variant)
    for _ in range(15): step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(a.steps): step()
        torch.cuda.synchronize()
    rows = {}
    for e in prof.events():
        if e.device_type != torch.autograd.DeviceType.CUDA: continue
        r = rows.setdefault(e.name, [0, 0.0]); r[0] += 1; r[1] += e.device_time_total if hasattr(e, 'device_time_total') else e.cuda_time_total
    total = sum(v[1] for v in rows.values()) / a.steps / 1e3
    print(f'# torch {a.workload} {a.variant}: device time per step {total:.3f} ms (sum of kernels), '
          f'{sum(v[0] for v in rows.values()) / a.steps:.0f} kernels/step')
    for name, (n, us) in sorted(rows.items(), key=lambda kv: -kv[1][1])[:a.top]:
        print(f'{us / a.steps / 1e3:8.3f} ms {n / a.steps:6.1f}/step  {name[:150]}')


if __name__ == '__main__':
    main()
