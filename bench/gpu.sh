#!/usr/bin/env bash
# The GPU figures in a few minutes on one GPU (BENCHMARKS.md, GPU): training img/s, peak memory
# and the fraction of peak FLOP/s at 256 px (batch 4 and 16, bf16 and fp32, beside the peer);
# stylize ms at 512/1024/2048 px; the exports' parity on CUDA.
#     bash bench/gpu.sh [PEER_DIR]     (PEER_DIR: pytorch/examples' fast_neural_style, default ../shared/peers/...)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PEER=${1:-../shared/peers/fast_neural_style}
GPU=$($PY -c 'import torch; print(torch.cuda.get_device_name())')
# Dense peak TFLOP/s of bf16 tensor cores by GPU (vendors' data sheets); fp32 runs as TF32.
case "$GPU" in
  *H200*|*H100*SXM*|*"H100 80GB HBM3"*) BF16=989; TF32=495 ;;
  *H100*) BF16=756; TF32=378 ;;
  *A100*) BF16=312; TF32=156 ;;
  *L40S*) BF16=362; TF32=183 ;;
  *L4*) BF16=121; TF32=60 ;;
  *) BF16=0; TF32=0 ;;
esac
echo "== $GPU (peak bf16 ${BF16} TFLOP/s, tf32 ${TF32})"
PEER_FLAG=(); [ -d "$PEER" ] && PEER_FLAG=(--peer "$PEER")
for P in bf16:$BF16 fp32:$TF32; do
  $PY bench/train_speed.py --device cuda --sizes 256 --batches 4,16 --precisions "${P%%:*}" --steps 10 \
    "${PEER_FLAG[@]}" $([ "${P##*:}" != 0 ] && echo --peak_tflops "${P##*:}")
done
$PY bench/stylize_speed.py --device cuda --sizes 512,1024,2048 --variants fast,reference,channels_last,bf16 --allocators default "${PEER_FLAG[@]}"
$PY - <<'PY'
# Export parity on CUDA: the TorchScript export, loaded onto the GPU, against the PyTorch generator there.
import io, torch
from models.generator import Generator
from models.portable import branch_noise
from worker.export import export
g = Generator().eval()
data, cpu_worst = export(g, 'torchscript')
m = torch.jit.load(io.BytesIO(data), map_location='cuda')
g = g.cuda()
worst = 0.0
for b, h, w in ((1, 37, 53), (2, 517, 301)):
    x, z = torch.rand(b, 3, h, w, device='cuda'), torch.rand(b, 3, h, w, device='cuda')
    for k in (0.0, 1.0):
        with torch.no_grad():
            worst = max(worst, (m(x, z, torch.tensor(k, device='cuda')) - g(x, noise=k, noises=branch_noise(g, z))).abs().max().item())
print(f'export parity: torchscript on CUDA max |difference| {worst:.2e} (CPU check at export: {cpu_worst:.2e})')
PY
