#!/usr/bin/env bash
# One command for issue 5's and issue 17's side-by-side benchmarks: builds, exports the weights, runs FlowGen + naive C#
# + FMA peak + the FlowTrainer run (BenchmarkDotNet), the TorchSharp peer and the PyTorch peers (R8/R2: bench.py; every
# layer kind: kinds.py; the training loop: trainer.py), and prints ONE table (also written to
# bench/results/<stamp>/table.md; bench/results/latest points at the newest run). See bench/README.md.
#
# usage: bench/run.sh [--quick] [--avx2] [--no-torchsharp] [--no-pytorch] [--disasm] [-- BenchmarkDotNet args]
#   --quick          representative subset (R8 float; every target of issue 5 readable), well under 2 minutes once built
#   --avx2           run everything with AVX-512 disabled (DOTNET_EnableAVX512=0, and the AVX2 kernels in the peers):
#                    the code a genuine AVX2-only Zen 3 would get; this machine has AVX-512 (see README)
#   --no-torchsharp, --no-pytorch   skip a peer
#   --disasm         only the DisassemblyDiagnoser run (JIT output of R8 log-density), no table
#   -- ARGS          passed to BenchmarkDotNet, e.g. -- --filter '*R8_float*' '*FmaPeak*'
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/.." && pwd)"
quick=0; avx2=0; torchsharp=1; pytorch=1; disasm=0; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --avx2) avx2=1 ;;
    --no-torchsharp) torchsharp=0 ;;
    --no-pytorch) pytorch=0 ;;
    --disasm) disasm=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ $avx2 = 1 ]; then
  export DOTNET_EnableAVX512=0          # .NET: no AVX-512/EVEX (16 ymm registers, as on Zen 3)
  export ATEN_CPU_CAPABILITY=avx2       # libtorch / PyTorch kernels
  export DNNL_MAX_CPU_ISA=AVX2          # oneDNN
  export MKL_ENABLE_INSTRUCTIONS=AVX2   # MKL (libtorch)
fi

mode=full; [ $quick = 1 ] && mode=quick
suffix=""; [ $quick = 1 ] && suffix+="-quick"; [ $avx2 = 1 ] && suffix+="-avx2"; [ $disasm = 1 ] && suffix+="-disasm"
isa=""; [ $avx2 = 1 ] && isa=", AVX-512 disabled"
stamp="$(date -u +%Y%m%d-%H%M%S)$suffix"
out="$bench/results/$stamp"
mkdir -p "$out"
ln -sfn "$stamp" "$bench/results/latest"
t_start=$(date +%s)
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }   # jiffies of all CPUs, not idle/iowait
busy0=$(busy)
phase() { echo; echo "=== $1 ($(( $(date +%s) - t_start )) s)"; }

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$root" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted changes in src/)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) CPUs, flags: $(grep -m1 flags /proc/cpuinfo | grep -o -w -E 'avx2|fma|avx512f' | sort -u | xargs)"
  echo "dotnet: $(dotnet --version)"
  echo "mode: $mode$isa"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/meta.txt"
cat "$out/meta.txt"

phase "build"
dotnet build "$bench/FlowGen.Benchmarks/FlowGen.Benchmarks.csproj" -c Release --nologo -v quiet > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
dll="$bench/FlowGen.Benchmarks/bin/Release/net10.0/FlowGen.Benchmarks.dll"
dotnet "$dll" info | tee -a "$out/meta.txt"

if [ $disasm = 1 ]; then
  phase "disassembly (BenchmarkDotNet DisassemblyDiagnoser, out of process)"
  (cd "$bench/FlowGen.Benchmarks" && dotnet "$dll" --disasm --artifacts "$out/bdn" "${extra[@]}") > "$out/bdn.log" 2>&1 || { tail -40 "$out/bdn.log"; exit 1; }
  echo "JIT output: $(ls "$out"/bdn/results/*-asm.md)"
  exit 0
fi

phase "export weights"
dotnet "$dll" export "$out/weights"

phase "FlowGen + naive C# + FMA peak (BenchmarkDotNet, $mode$([ $quick = 1 ] && echo ', in process' || true))"
bdn_args=(--artifacts "$out/bdn")
[ $quick = 1 ] && bdn_args+=(--quick)
# BenchmarkDotNet must start in the project folder to find the .csproj it builds its runner from
(cd "$bench/FlowGen.Benchmarks" && dotnet "$dll" "${bdn_args[@]}" "${extra[@]}") > "$out/bdn.log" 2>&1 \
  || { echo "BenchmarkDotNet reported failures:"; grep -E -A3 'Benchmarks with issues|Exception' "$out/bdn.log" | head -40; }
sed -n '/^| Type/,/^$/p' "$out/bdn.log"

peer_args=(--weights "$out/weights" --out "$out/peers.jsonl")
[ $quick = 1 ] && peer_args+=(--quick)
if [ $torchsharp = 1 ]; then
  phase "TorchSharp peer"
  bash "$bench/peers/torchsharp/run.sh" "${peer_args[@]}" 2>&1 | tee "$out/torchsharp.log" || echo "TorchSharp peer failed (see $out/torchsharp.log)"
fi
if [ $pytorch = 1 ]; then
  phase "PyTorch peer"
  if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then bash "$bench/peers/pytorch/setup.sh"; fi
  /usr/bin/python3 "$bench/peers/pytorch/bench.py" "${peer_args[@]}" 2>&1 | tee "$out/pytorch.log" || echo "PyTorch peer failed (see $out/pytorch.log)"
  # every layer kind (S8, Q8, D8, G8) rebuilt by interop/python/flowgen_torch.py from the exported safetensors
  /usr/bin/python3 "$bench/peers/pytorch/kinds.py" "${peer_args[@]}" 2>&1 | tee "$out/pytorch-kinds.log" || echo "PyTorch kinds peer failed (see $out/pytorch-kinds.log)"
  # FlowTrainer end to end (TrainerBench.cs) against a plain PyTorch Adam loop on R8, the same data, steps and batches
  /usr/bin/python3 "$bench/peers/pytorch/trainer.py" "${peer_args[@]}" 2>&1 | tee "$out/pytorch-trainer.log" || echo "PyTorch training-loop peer failed (see $out/pytorch-trainer.log)"
fi

phase "report"
wall=$(( $(date +%s) - t_start ))
# CPU used by this run (its children) vs. by the whole machine: the rest is other tenants' load
times > "$out/times.txt"   # in this shell (not a subshell): line 2 = user and system time of every finished child
ours=$(tail -1 "$out/times.txt" | awk '{ split($1,u,/[ms]/); split($2,s,/[ms]/); print u[1]*60+u[2]+s[1]*60+s[2] }')
machine=$(awk -v a="$busy0" -v b="$(busy)" -v hz="$(getconf CLK_TCK)" 'BEGIN{print (b-a)/hz}')
{
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v m="$machine" -v o="$ours" -v w="$wall" 'BEGIN{printf "wall time: %d s; CPU time: this run %.0f s, whole machine %.0f s -> other processes used %.2f cores on average\n", w, o, m, (m-o)/w}'
} | tee -a "$out/meta.txt"
title="FlowGen vs peers, $(date -u '+%Y-%m-%d') ($mode run$isa)"
dotnet "$dll" report --bdn "$out/bdn" --peers "$out/peers.jsonl" --out "$out/table.md" --title "$title" > /dev/null
{ echo; echo '```'; cat "$out/meta.txt"; echo '```'; } >> "$out/table.md"
cat "$out/table.md"
echo
echo "results: $out (table.md, bdn/results/*, peers.jsonl, logs)"
