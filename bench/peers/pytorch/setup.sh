#!/usr/bin/env bash
# Installs the PyTorch peer: Debian's python3-torch (PyTorch 1.13, for the system /usr/bin/python3) with the
# OpenMP build of OpenBLAS selected as the system BLAS/LAPACK (see /work/shared/reference/peers.md: the pthread
# build fights torch's own threads at 2 threads, and the reference BLAS is ~4x slower).
# Idempotent; needs root (apt-get, update-alternatives). Usage: bash bench/peers/pytorch/setup.sh
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
dpkg -s libopenblas0-openmp >/dev/null 2>&1 || need+=(libopenblas0-openmp)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# Select OpenBLAS (OpenMP) for libblas.so.3 and liblapack.so.3.
arch=x86_64-linux-gnu
for lib in libblas.so.3 liblapack.so.3; do
  alt="$lib-$arch"
  cand=$(update-alternatives --list "$alt" 2>/dev/null | grep -m1 'openblas-openmp' || true)
  if [ -n "$cand" ]; then
    update-alternatives --set "$alt" "$cand" >/dev/null
    echo "$alt -> $cand"
  else
    echo "warning: no openblas-openmp alternative for $alt" >&2
  fi
done
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())'
