#!/usr/bin/env bash
# Builds the TorchSharp peer, applies the GLIBCXX workaround (peers.md) to the built libLibTorchSharp.so, and runs it.
# usage: bench/peers/torchsharp/run.sh --weights DIR [--out FILE.jsonl] [--quick] [--models R8,R2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$(cd "$here/../../.." && pwd)/../shared/tools"
[ -d "$tools" ] || tools=/work/shared/tools
dotnet build "$here/TorchSharpPeer.csproj" -c Release --nologo -v quiet >"$here/build.log" 2>&1 || { cat "$here/build.log"; exit 1; }
out="$here/bin/Release/net10.0"
so="$out/runtimes/linux-x64/native/libLibTorchSharp.so"
# libLibTorchSharp.so asks for GLIBCXX_3.4.32, which Debian 12's libstdc++ lacks; the symbol behind it is never called.
# Mark the requirement weak in the built copy (idempotent; needed after every build that copies the file again).
if ! strings /usr/lib/x86_64-linux-gnu/libstdc++.so.6 | grep -qx GLIBCXX_3.4.32; then
  python3 "$tools/weaken_verneed.py" "$so" GLIBCXX_3.4.32 >/dev/null
fi
exec dotnet "$out/TorchSharpPeer.dll" "$@"
