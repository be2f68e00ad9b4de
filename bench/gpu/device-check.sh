#!/usr/bin/env bash
# One-shot GPU check on a Linux machine with an NVIDIA GPU and a Vulkan loader but no internet.
# Unpack the file from bench/gpu/pack.sh, then:
#   NODE=/path/to/bin/node bench/gpu/device-check.sh [out-dir]
# It lists the providers that start (engineInfo) with the WebGPU adapter,
# writes random full-size SD1.5 + AnimateLCM weights through the studio's compiler (≈ 2.7 GB fp16 / 5.3 GB fp32
# of scratch disk), runs `npm run bench -- gpu` on the first GPU provider that starts, samples nvidia-smi for the
# peak device memory, and writes JSON to out-dir (default ./gpu-check-<time>).
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE="${NODE:-node}"
out="${1:-gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
unset VK_ICD_FILENAMES   # the machine's own Vulkan driver, not SwiftShader
"$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node >= 20.19 is required, found "+process.versions.node); process.exit(1) }'
"$NODE" --import tsx -e "import('./src/main/engine/runtime/info.ts').then(async (m) => console.log(JSON.stringify(await m.engineInfo(), null, 2)))" | tee "$out/providers.json"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/nvidia-smi.csv" 2>&1 || echo "nvidia-smi not found" > "$out/nvidia-smi.csv"
peak_file="$out/device-memory-samples.csv"
( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 >> "$peak_file"; sleep 1; done ) &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
status=0
"$NODE" --import tsx bench/run.ts gpu --json-out "$out/gpu.json" 2>&1 | tee "$out/gpu.log" || status=$?
kill $sampler 2>/dev/null || true
peak=$(sort -n "$peak_file" 2>/dev/null | tail -1)
echo "{\"peakDeviceMemoryMiB\": ${peak:-null}, \"benchExit\": $status}" > "$out/device-memory.json"
echo "Results in $out (gpu.json, gpu.log, providers.json, device-memory.json)."
exit $status
