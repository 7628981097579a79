#!/usr/bin/env bash
# Side-by-side throughput of the quickstart model in adaptbench and in PyTorch eager
# (../shared/peers/bench_torch.py), on this machine, in one run, as ratios.
#
#   benches/compare_torch.sh /path/to/python-with-torch [transformer|prompt-search|all] [ROUNDS]
#
# (default: all, 1 round). With ROUNDS > 1 the transformer comparison runs that many rounds one after the other
# (each: both peers, then adaptbench, per thread count) and prints, per workload, the median of each side's
# throughput and the median and range of the per-round ratios: machines of this kind vary by up to ±30% over
# minutes, and a ratio of two measurements minutes apart carries that noise.
#
# transformer: for each thread count (1, 2), the machine's sgemm peak (torch, 1024³), the peer's sections a
#   (training step, batch 64 × 64 tokens) and c (forward, batch 256 × 64 tokens) in eager mode and under
#   torch.compile (benches/torch_compiled.py), then `cargo bench --bench transformer` with RAYON_NUM_THREADS set
#   (its peak resident memory too), for d_model 64 / 2 layers and d_model 128 / 4 layers. Section c is set
#   against both burn's forward pass and evaluation as the pipeline runs it (the forward-only engine, to
#   per-sequence losses).
# prompt-search: for each thread count, the peer's section d (exhaustive search over every prompt of length
#   1..10 on N = 64 sequences of T = 32 bits, one batch-N forward per prompt and stacked in chunks of 4096
#   sequences), then `cargo bench -p adaptbench-infer --bench prompt_search` (the same search, lengths 0..10,
#   on 2 and 1 threads). Compared as prompt-evaluations/s (prompt × sequence pairs scored per second).
set -euo pipefail
python="${1:?usage: benches/compare_torch.sh PYTHON_WITH_TORCH [transformer|prompt-search|all] [ROUNDS]}"
what="${2:-all}"
rounds="${3:-1}"
case "$what" in transformer | prompt-search | all) ;; *) echo "unknown workload '$what': transformer, prompt-search or all" >&2; exit 2 ;; esac
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
peer="$root/../shared/peers/bench_torch.py"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ "$what" != prompt-search ]]; then
  (cd "$root" && cargo bench --quiet --bench transformer --no-run >/dev/null 2>&1)
  for round in $(seq "$rounds"); do
  for threads in 1 2; do
    "$python" - "$threads" >"$work/sgemm_${threads}_$round.txt" <<'PY'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
for _ in range(5):
    a @ b
start, n = time.perf_counter(), 30
for _ in range(n):
    a @ b
print(2 * 1024**3 * n / (time.perf_counter() - start) / 1e9)
PY
    "$python" "$peer" --threads "$threads" --only a,c --out "$work/torch_${threads}_$round.json" >/dev/null
    "$python" "$root/benches/torch_compiled.py" --threads "$threads" --only a,c --out "$work/compiled_${threads}_$round.json" >/dev/null 2>&1
    (cd "$root" && RAYON_NUM_THREADS="$threads" /usr/bin/time -f %M -o "$work/rss_${threads}_$round.txt" cargo bench --quiet --bench transformer >/dev/null 2>&1)
    for shape in d64_l2 d128_l4; do
      for group in "train_step_$shape/batch64_len64" "forward_$shape/batch256_len64" "evaluate_$shape/batch256_len64"; do
        cp "$target/criterion/$group/new/estimates.json" "$work/burn_${threads}_${group%%/*}_$round.json"
      done
    done
  done
  done
fi
if [[ "$what" != transformer ]]; then
  for threads in 1 2; do
    "$python" "$peer" --threads "$threads" --only d --out "$work/torch_search_$threads.json" >/dev/null
  done
  # The bench prints one "N thread(s): full search … in S s: R prompt-evals/s" line per thread count.
  (cd "$root" && cargo bench --quiet -p adaptbench-infer --bench prompt_search 2>&1 >/dev/null | grep "full search" >"$work/engine.txt")
fi

"$python" - "$work" "$what" "$rounds" <<'PY'
import json, os, re, statistics, sys
work, what, rounds = sys.argv[1], sys.argv[2], range(1, int(sys.argv[3]) + 1)
def peer(name, section):
    return [r for r in json.load(open(os.path.join(work, name))) if r.get("section", "").startswith(section)]
if what != "prompt-search":
    def burn(threads, group, tokens, round):
        mean_ns = json.load(open(os.path.join(work, f"burn_{threads}_{group}_{round}.json")))["mean"]["point_estimate"]
        return tokens / (mean_ns * 1e-9)
    def ratio(values):
        # One ratio: as measured; several rounds: their median, and their range.
        middle = statistics.median(values)
        return f"{middle:.2f}" if len(values) == 1 else f"{middle:.2f} ({min(values):.2f}-{max(values):.2f})"
    width = 7 if len(rounds) == 1 else 18
    print(f"{'workload':<40}{'threads':>8}{'adaptbench':>12}{'eager':>10}{'ratio':>{width}}{'compiled':>10}{'ratio':>{width}}")
    for threads in (1, 2):
        for shape, d in (("d64_l2", 64), ("d128_l4", 128)):
            for name, section, group, tokens in (
                (f"train step {shape}, 64 x 64 (tokens/s)", "a_pretrain", f"train_step_{shape}", 64 * 64),
                (f"forward {shape}, 256 x 64 (tokens/s)", "c_eval_fwd", f"forward_{shape}", 256 * 64),
                (f"evaluation {shape}, 256 x 64 (tokens/s)", "c_eval_fwd", f"evaluate_{shape}", 256 * 64),
            ):
                eager = [next(r["tok_per_s"] for r in peer(f"torch_{threads}_{n}.json", section) if r.get("d") == d) for n in rounds]
                compiled = [next(r["tok_per_s"] for r in peer(f"compiled_{threads}_{n}.json", section) if r.get("d") == d) for n in rounds]
                ours = [burn(threads, group, tokens, n) for n in rounds]
                to_eager = ratio([o / e for o, e in zip(ours, eager)])
                to_compiled = ratio([o / c for o, c in zip(ours, compiled)])
                print(
                    f"{name:<40}{threads:>8}{statistics.median(ours):>12,.0f}{statistics.median(eager):>10,.0f}{to_eager:>{width}}"
                    f"{statistics.median(compiled):>10,.0f}{to_compiled:>{width}}"
                )
    for threads in (1, 2):
        sgemm = [float(open(os.path.join(work, f"sgemm_{threads}_{n}.txt")).read()) for n in rounds]
        rss_mb = max(int(open(os.path.join(work, f"rss_{threads}_{n}.txt")).read().split()[-1]) for n in rounds) / 1024
        spread = "" if len(rounds) == 1 else f" (rounds: {', '.join(f'{v:.0f}' for v in sgemm)})"
        print(f"{threads} thread(s): sgemm peak (torch, 1024^3) {statistics.median(sgemm):.0f} GFLOP/s{spread}; adaptbench bench peak RSS {rss_mb:.0f} MB")
    if len(rounds) > 1:
        print(f"{len(rounds)} rounds: throughputs are medians over rounds; ratios the median (range) of the per-round ratios")
if what != "transformer":
    print(f"{'workload':<46}{'threads':>8}{'adaptbench':>14}{'PyTorch':>14}{'ratio':>8}")
    engine = {}
    for line in open(os.path.join(work, "engine.txt")):
        match = re.search(r"(\d+) thread\(s\): .* in ([\d.]+) s: (\d+) prompt-evals/s", line)
        engine[int(match.group(1))] = float(match.group(3))
    for threads in (1, 2):
        for row in peer(f"torch_search_{threads}.json", "d_prompt_search"):
            # prompts/s × N sequences: the same unit as the engine's prompt-evaluations/s.
            theirs = row["prompts_per_s"] * row["N"]
            name = f"prompt search vs torch {row['section'].removeprefix('d_prompt_search_')}"
            print(f"{name:<46}{threads:>8}{engine[threads]:>14,.0f}{theirs:>14,.0f}{engine[threads] / theirs:>8.2f}")
PY
