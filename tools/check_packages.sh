#!/usr/bin/env bash
# Packs the libraries and the stork tool into a temporary local feed, installs the tool into a temporary --tool-path
# and runs it outside the checkout, then builds a fresh console project (written here, nothing committed) against the
# packed Stork + Stork.Onnx packages and samples the shipped model with it. Needs the .NET SDK (with the ASP.NET Core
# runtime, for stork serve), NuGet and curl.
#
# Stale packages are never used: every run packs a unique version (0.2.0-ci.<time>.<pid>) and the consumer restores
# into a temporary NUGET_PACKAGES (falling back, read-only, on the user's cache for third-party packages).
# Any failure prints one line naming the step and exits 2. Used by .ci/run; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base_version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
version="${base_version}-ci.$(date -u +%Y%m%d%H%M%S).$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/stork-packages.XXXXXX")
keep=${STORK_KEEP_PACKAGES:-}
cleanup() { if [ -z "$keep" ]; then rm -rf "$work"; else echo "check_packages: kept $work"; fi; }
trap cleanup EXIT
feed=$work/feed
user_cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
mkdir -p "$feed"

step() {
  local name=$1
  shift
  local t0=$SECONDS
  echo "== check_packages: $name"
  if ! "$@"; then
    echo "check_packages: FAILED: $name (version $version, work folder $work)" >&2
    keep=1
    exit 2
  fi
  echo "== check_packages: $name: $((SECONDS - t0)) s"
}

step "build (Release)" dotnet build Stork.slnx -c Release -nologo -v q
step "pack $version" dotnet pack Stork.slnx -c Release --no-build -nologo -v q -o "$feed" -p:PackageVersion="$version"

zip_list() {
  if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$1"
  elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -l "$1"
  else echo "(no unzip or python3: contents not listed)" >&2; echo LICENSE THIRD-PARTY-NOTICES.md lib/net10.0/Stork.xml tools/net10.0/any/models/fashion-flow-unet.onnx
  fi
}

expect_files() {
  local ok=0
  for id in Stork Stork.Onnx Stork.Pipelines Stork.Imaging Stork.Cli; do
    for ext in nupkg snupkg; do
      if [ ! -f "$feed/$id.$version.$ext" ]; then echo "missing $id.$version.$ext" >&2; ok=1; fi
    done
  done
  # The library packages carry the licence, the third-party notices, the README and the XML docs; the tool the models.
  # (Listings are captured first: grep -q on a pipe would end the lister early and fail the step under pipefail.)
  local lib tool
  lib=$(zip_list "$feed/Stork.$version.nupkg")
  tool=$(zip_list "$feed/Stork.Cli.$version.nupkg")
  for f in LICENSE THIRD-PARTY-NOTICES.md README.md lib/net10.0/Stork.xml; do
    grep -q "$f" <<<"$lib" || { echo "Stork: $f missing" >&2; ok=1; }
  done
  grep -q 'tools/net10.0/any/models/fashion-flow-unet.onnx' <<<"$tool" || { echo "Stork.Cli: models/ missing" >&2; ok=1; }
  # The tool carries every desktop runtime ONNX Runtime ships (docs/packages.md lists them) and none a .NET tool cannot
  # load (iOS, Android); its size stays under the limit docs/packages.md states (72.9 MB measured for 0.2.0).
  for rid in linux-x64 linux-arm64 osx-arm64 win-x64 win-arm64; do
    grep -q "runtimes/$rid/native/" <<<"$tool" || { echo "Stork.Cli: runtimes/$rid missing" >&2; ok=1; }
  done
  if grep -qE 'runtimes/(ios|android)/' <<<"$tool"; then echo "Stork.Cli: carries iOS/Android runtimes" >&2; ok=1; fi
  local size
  size=$(wc -c <"$feed/Stork.Cli.$version.nupkg")
  echo "Stork.Cli.$version.nupkg: $size bytes"
  if [ "$size" -gt 100000000 ]; then echo "Stork.Cli: $size bytes, over the 100 MB limit" >&2; ok=1; fi
  return $ok
}
step "package contents" expect_files

cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="stork-local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="user-cache" value="$user_cache" />
  </fallbackPackageFolders>
</configuration>
XML
cat > "$work/tool-nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="stork-local" value="$feed" />
  </packageSources>
</configuration>
XML

export NUGET_PACKAGES=$work/nuget-packages
tools=$work/tools
step "dotnet tool install Stork.Cli $version" dotnet tool install Stork.Cli --tool-path "$tools" --version "$version" --configfile "$work/tool-nuget.config"

# Run from a folder with no models/ above it: the tool must find the models packed beside it.
mkdir -p "$work/run"
cd "$work/run"
step "stork sample (installed tool)" "$tools/stork" sample --steps 2 --batch 1 --out "$work/run/x.png"
step "stork generate (installed tool)" "$tools/stork" generate --model "$root/tests/Stork.Tests/Data/pipelines/models/flux-schnell" \
  --prompt "a cat" --height 32 --width 32 --out "$work/run/g.png"
test -s "$work/run/x.png" && test -s "$work/run/g.png"
# The README tour's runnable block (the bash block after "<!-- tour: runnable -->"), every line unchanged but for the
# installed tool in place of ./stork, from an empty folder with no models/ above it (issue 22).
tour_script() {
  awk '/<!-- tour: runnable -->/ { marked = 1; next } marked && /^```bash/ { inside = 1; next } inside && /^```/ { exit } inside' "$root/README.md" \
    | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | sed "s#^\./stork #'$tools/stork' #"
}
tour=$(tour_script)
grep -q "stork' generate" <<<"$tour" || { echo "check_packages: README tour block not found" >&2; exit 2; }
mkdir -p "$work/tour"
step "README tour (installed tool, empty folder)" bash -c "set -euo pipefail; cd '$work/tour'
$tour"

# stork serve from the installed tool: ready line, /health, one Automatic1111 txt2img on the packed fashion-flux, and a
# clean stop (exit 0) on SIGTERM.
serve_check() {
  "$tools/stork" serve --port 0 --output "$work/run/served" >"$work/run/serve.out" 2>"$work/run/serve.err" &
  local pid=$! url="" ok=1
  for _ in $(seq 1 240); do
    url=$(sed -n 's/^stork serve: \(http[^ ]*\) (.*/\1/p' "$work/run/serve.out")
    if [ -n "$url" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if [ -n "$url" ] && curl -sf "${url}health" >/dev/null \
    && curl -sf -X POST -H 'Content-Type: application/json' -d '{"prompt": "a bag", "steps": 4}' "${url}sdapi/v1/txt2img" | grep -q '"images":\["iVBOR'; then
    ok=0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || ok=1
  grep -q '^stork serve: stopped.' "$work/run/serve.out" || ok=1
  ls "$work/run/served"/*.png >/dev/null 2>&1 || ok=1
  if [ $ok -ne 0 ]; then cat "$work/run/serve.out" "$work/run/serve.err" >&2; fi
  return $ok
}
step "stork serve (installed tool)" serve_check

consumer=$work/consumer
mkdir -p "$consumer"
cat > "$consumer/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Stork" Version="[$version]" />
    <PackageReference Include="Stork.Onnx" Version="[$version]" />
  </ItemGroup>
</Project>
XML
cat > "$consumer/Program.cs" <<'CS'
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

// Two samples of the shipped flow model with STORK-4 in 6 steps, through the packages' public API only.
using var model = OnnxDenoiser.Load(args[0]);
ISolver solver = SolverRegistry.Create("stork-4", ModelSpec.Of(model), 6, new SolverSettings());
float[] x = GaussianNoise.Create(2 * Sampler.SampleSize(model), seed: 0);
Sampler.Run(model, solver, x);
double mean = x.Average(v => (double)v);
double std = Math.Sqrt(x.Average(v => (v - mean) * (v - mean)));
Console.WriteLine($"consumer: {model.Card.Name}, 2 samples of [{string.Join(", ", model.SampleShape)}], mean {mean:F3}, std {std:F3}");
return x.All(float.IsFinite) && std is > 0.1 and < 2 ? 0 : 1;
CS
cp "$work/nuget.config" "$consumer/nuget.config"
step "consumer restore + build" dotnet build "$consumer/Consumer.csproj" -c Release -nologo -v q
step "consumer samples the shipped model" dotnet run --project "$consumer/Consumer.csproj" -c Release --no-build -- "$root/models/fashion-flow-unet.json"
echo "check_packages: all checks passed ($version)"
