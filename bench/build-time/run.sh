#!/usr/bin/env bash
# Time to build a project holding R8 and nine other models (bench/build-time/Models.cs) against the FlowGen checkout at
# $1 (default: this repository): the runtime and generator are built first, then the consumer is rebuilt N times (default 3)
# after touching its source, with --no-dependencies; prints every wall time and the minimum, and the generated sizes.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cat > "$work/BuildTime.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$root/src/FlowGen.Runtime/FlowGen.Runtime.csproj" />
    <ProjectReference Include="$root/src/FlowGen.Generator/FlowGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
XML
cp "$here/Models.cs" "$work/Models.cs"
dotnet build "$work/BuildTime.csproj" -c Release -nologo -v q > "$work/first.log" 2>&1 || { cat "$work/first.log"; exit 1; }
best=""
for i in $(seq 1 "$runs"); do
  touch "$work/Models.cs"
  t0=$(date +%s%N)
  dotnet build "$work/BuildTime.csproj" -c Release -nologo -v q --no-dependencies > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "run $i: ${ms} ms"
  if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
echo "minimum: ${best} ms"
echo "generated: $(find "$work/obj" -name '*.g.cs' | xargs cat | wc -c) bytes in $(find "$work/obj" -name '*.g.cs' | wc -l) files; R8: $(find "$work/obj" -name '*R8.g.cs' | xargs wc -c | awk '{print $1}') bytes"
rm -rf "$work"
