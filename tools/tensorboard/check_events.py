"""Reads a run folder's TensorBoard event files with tensorboard's own reader and checks every scalar against
metrics.jsonl (the same values, float32-rounded): the independent check of train/tensorboard/EventFileWriter.

  python3 tools/tensorboard/check_events.py RUN_DIR

Needs the `tensorboard` package (on the GPU machine; elsewhere e.g. pip install --no-index --find-links DIR tensorboard).
Exits 1 on a missing or different value.
"""
import json, math, os, struct, sys
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

if len(sys.argv) != 2:
    sys.exit('usage: check_events.py RUN_DIR')
run = sys.argv[1]
for need in ('metrics.jsonl', 'tensorboard'):
    if not os.path.exists(os.path.join(run, need)):
        sys.exit(f'{run} is not a run folder with TensorBoard files: {os.path.join(run, need)} is missing')
mux = EventMultiplexer()
mux.AddRunsFromDirectory(os.path.join(run, 'tensorboard'))
mux.Reload()
got = {}
for name, kinds in mux.Runs().items():
    for tag in kinds.get('images', []):
        im = mux.Images(name, tag)[-1]
        print(f'image {tag} at step {im.step}: {im.width}x{im.height}, {len(im.encoded_image_string)} bytes')
    for tag in kinds.get('tensors', []):
        if tag.startswith('_hparams_/'):
            continue  # the hparams plugin's placeholder tensor: read below
        t = mux.Tensors(name, tag)[-1]
        text = t.tensor_proto.string_val[0].decode() if t.tensor_proto.string_val else ''
        print(f'text {tag} at step {t.step}: {len(text)} characters, starts {text[:40]!r}')
hparams_ok = True
from tensorboard.plugins.hparams import plugin_data_pb2
for name, tags in mux.PluginRunToTagToContent('hparams').items():
    for tag, content in tags.items():
        start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        hp = {k: v.WhichOneof('kind') and getattr(v, v.WhichOneof('kind')) for k, v in start.hparams.items()}
        cfg = json.load(open(os.path.join(run, 'config.json'))).get('run', {})
        want_hp = {k: v for k, v in cfg.items() if isinstance(v, (bool, int, float, str))}
        hparams_ok = all(hp.get(k) == v for k, v in want_hp.items()) and len(hp) == len(want_hp)
        print(f'hparams {tag}: {len(hp)} values (config.json run: {len(want_hp)} scalars), '
              f'{"all equal" if hparams_ok else "DIFFERENT"}: ' + ', '.join(f'{k}={hp[k]}' for k in list(hp)[:6]) + ', ...')
for name in mux.Runs():
    for tag in mux.Runs()[name].get('scalars', []):
        for e in mux.Scalars(name, tag):
            got[(tag, e.step)] = e.value
want = {}
for line in open(os.path.join(run, 'metrics.jsonl')):
    row = json.loads(line)
    prefix = 'train/' if row['kind'] == 'step' else row['kind'] + '/'
    for k, v in row.items():
        if k in ('kind', 'epoch', 'step', 'elapsed_s') or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        name = 'loss' if row['kind'] == 'step' and k == 'train_loss' else k[5:] if row['kind'] == 'test' and k.startswith('test_') else k
        want[(prefix + name, row['step'])] = struct.unpack('f', struct.pack('f', v))[0]
bad = [(k, want[k], got.get(k)) for k in sorted(want) if got.get(k) is None or not math.isclose(got[k], want[k], rel_tol=1e-7, abs_tol=0)]
# a run extended with --resume keeps, in TensorBoard, the test pass of the shorter run (metrics.csv keeps the last one)
last_test = max((st for t, st in want if t.startswith('test/')), default=-1)
extra = sorted(k for k in set(got) - set(want) if not (k[0].startswith('test/') and k[1] < last_test))
tags = sorted({t for t, _ in got})
print(f'{len(got)} scalars under {len(tags)} tags read by tensorboard {__import__("tensorboard").__version__}: {", ".join(tags)}')
print(f'{len(want)} values in metrics.jsonl; {len(bad)} missing or different; {len(extra)} not in metrics.jsonl')
for b in bad[:10]: print('  differs:', b)
for x in extra[:10]: print('  extra:', x)
sys.exit(1 if bad or extra or not hparams_ok else 0)
