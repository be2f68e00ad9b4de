#!/usr/bin/env bash
# Packs what bench/gpu/device-check.sh needs onto a machine with no internet, in one file under 64 MiB:
# the sources (src, bench, package.json, tsconfigs) and only the node_modules the gpu bench loads —
# onnxruntime-node's Linux x64 libraries (WebGPU is built in), onnxruntime-common, tsx and esbuild's Linux binary.
#   bench/gpu/pack.sh [out.tar.xz] [path/to/node-vXX-linux-x64.tar.xz]
# The Node binary (≈ 25 MB as the official .tar.xz) is added when given; without it the target needs Node ≥ 20.19.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/animatelcm-gpu-check.tar.xz}"
node_tar="${2:-}"
nm=node_modules
mods=("$nm/onnxruntime-common" "$nm/tsx" "$nm/esbuild" "$nm/@esbuild/linux-x64")
files=(src bench resources/clip package.json tsconfig.base.json tsconfig.node.json "${mods[@]}"
  "$nm/onnxruntime-node/package.json" "$nm/onnxruntime-node/dist" "$nm/onnxruntime-node/lib" "$nm/onnxruntime-node/bin/napi-v6/linux/x64")
[ -n "$node_tar" ] && files+=("$node_tar")
tar --dereference --exclude='*.md' --exclude='bench/results' -cJf "$out" "${files[@]}"
echo "$out: $(du -h "$out" | cut -f1) (limit 64 MiB)"
