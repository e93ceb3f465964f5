#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target in fuzz/ (or those named in FUZZ_TARGETS)
# for FUZZ_SECONDS (default 60) each, on the stable toolchain, starting from
# the seeds in fuzz/corpus/<target>/. Fails if any target crashes: a panic, a
# failed check, a timeout or running out of memory; libFuzzer then leaves the
# input in fuzz/artifacts/<target>/, and `cargo fuzz run <target> <file>`
# replays it.
#
# Stable Rust: cargo-fuzz's coverage flags (-Cpasses=sancov-module, -Cllvm-args)
# are stable; only its sanitizers need nightly, so the build uses
# `--sanitizer none`. A Rust panic (overflow checks and debug assertions are on)
# still aborts and is reported as a crash. What the fuzzer finds beyond the
# seeds goes to fuzz/target/corpus/<target>/ (ignored by git), and is reused by
# the next run on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

# cargo-fuzz from crates.io into .tools/cargo, unless this version is there.
if [ "$(.tools/cargo/bin/cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/cargo" >&2
  cargo install --locked --quiet --root .tools/cargo cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export PATH="$PWD/.tools/cargo/bin:$PATH"

fuzz() { cargo fuzz "$1" --sanitizer none "${@:2}"; }

targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
echo "fuzz: building $(echo $targets)" >&2
fuzz build

mkdir -p fuzz/target/logs
failed=()
summary=()
for target in $targets; do
  work=fuzz/target/corpus/$target
  mkdir -p "$work" "fuzz/artifacts/$target"
  # Inputs past the size limits (8 KiB bodies, 4 KiB tokens) must be reachable too.
  case $target in
    request_body) max_len=10000 ;;
    bearer_verify) max_len=5000 ;;
    *) max_len=4096 ;;
  esac
  log=fuzz/target/logs/$target.log
  echo "fuzz: $target for ${FUZZ_SECONDS}s (log $log)" >&2
  # New inputs land in the first folder; the committed seeds are only read.
  if fuzz run "$target" "$work" "fuzz/corpus/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$log" 2>&1; then
    outcome=ok
  else
    outcome=CRASH
    failed+=("$target")
    grep -E -A12 "panicked at|^==[0-9]+== ERROR|SUMMARY|Test unit written" "$log" | head -40 >&2 || tail -n 40 "$log" >&2
  fi
  stat() { sed -nE "s/^stat::$1:[[:space:]]+([0-9]+).*/\1/p" "$log" | tail -1; }
  final=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$final")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$final")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$final")
  summary+=("$(printf '%-16s %-6s %10s %9s %6s %6s  %s' "$target" "$outcome" \
    "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" "$cov" "$ft" "$corp")")
done

printf '\n%-16s %-6s %10s %9s %6s %6s  %s\n' target result execs "execs/s" cov ft corpus
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAIL: ${failed[*]} crashed; inputs in fuzz/artifacts/<target>/, logs in fuzz/target/logs/" >&2
  exit 1
fi
echo "fuzz: ok, no crash in $(echo $targets | wc -w) targets x ${FUZZ_SECONDS}s"
