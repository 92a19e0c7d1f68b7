"""PyTorch side of the CPU ViT training-step comparison (same model as ../../shared/reference/torch_workloads.py's
ClassificationViT: 256-d, 4 layers, 4 heads, FFN 1024, patch 4 on 32x32x3, batch 128, AdamW), timed like
VitTrainStepBench: median of N steps after warm-up, wall clock. Usage: python3 torch_cpu_vit.py [threads] [warmup] [iters]
With T4J_TORCH_COMPILE=1 the forward + loss and the optimizer step run through torch.compile (Inductor's C++ kernels).
Run by ../cpu-vs-torch.sh beside our step."""
import os, statistics, sys, time
import torch, torch.nn.functional as F

from torch_bench import ClassificationViT  # the same model as the GPU harness (its defaults: 3 channels)

if __name__ == '__main__':
    threads, warm, iters = (int(a) for a in (sys.argv[1:] + ['2', '3', '10'][len(sys.argv) - 1:]))
    torch.set_num_threads(threads)
    for name, kw, batch in (('vit-tiny-p4 3x32x32', dict(dim=256, ffn=1024, img=32, ch=3), 128),
                            ('vit-mini-p4 1x28x28', dict(dim=128, ffn=512, img=28, ch=1), 128)):
        torch.manual_seed(0)
        m = ClassificationViT(**kw)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.05)
        x = torch.randn(batch, kw['ch'], kw['img'], kw['img']); y = torch.randint(0, 10, (batch,))
        compiled = os.environ.get('T4J_TORCH_COMPILE') == '1'
        forward = torch.compile(lambda x, y: F.cross_entropy(m(x), y)) if compiled else (lambda x, y: F.cross_entropy(m(x), y))
        update = torch.compile(opt.step) if compiled else opt.step
        def step():
            loss = forward(x, y); loss.backward(); update(); opt.zero_grad(set_to_none=True)
        for _ in range(warm): step()
        ts = []
        for _ in range(iters):
            t0 = time.perf_counter(); step(); ts.append(time.perf_counter() - t0)
        med = statistics.median(ts)
        print(f'torch {torch.__version__}{" compiled" if compiled else ""} {name} batch {batch}, {threads} threads: median step {med*1e3:.1f} ms '
              f'(best {min(ts)*1e3:.1f}, worst {max(ts)*1e3:.1f}), {batch/med:.0f} images/s, '
              f'{sum(p.numel() for p in m.parameters())} parameters', flush=True)
