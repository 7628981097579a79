#!/usr/bin/env bash
# Side-by-side throughput of the quickstart model in adaptbench (burn-flex) and in PyTorch eager
# (../shared/peers/bench_torch.py), on this machine, in one run, as ratios.
#
#   benches/compare_torch.sh /path/to/python-with-torch
#
# For each thread count (1, 2): the peer's sections a (training step, batch 64 × 64 tokens) and c (forward,
# batch 256 × 64 tokens), then `cargo bench --bench transformer` with RAYON_NUM_THREADS set, then a table.
set -euo pipefail
python="${1:?usage: benches/compare_torch.sh PYTHON_WITH_TORCH}"
root="$(cd "$(dirname "$0")/.." && pwd)"
peer="$root/../shared/peers/bench_torch.py"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for threads in 1 2; do
  "$python" "$peer" --threads "$threads" --only a,c --out "$work/torch_$threads.json" >/dev/null
  (cd "$root" && RAYON_NUM_THREADS="$threads" cargo bench --quiet --bench transformer >/dev/null 2>&1)
  for group in train_step_d64_l2/batch64_len64 forward_d64_l2/batch256_len64; do
    cp "$target/criterion/$group/new/estimates.json" "$work/burn_${threads}_${group%%/*}.json"
  done
done

"$python" - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
def torch(threads, section):
    rows = json.load(open(os.path.join(work, f"torch_{threads}.json")))
    return next(r["tok_per_s"] for r in rows if r.get("section") == section and r.get("d") == 64)
def burn(threads, group, tokens):
    mean_ns = json.load(open(os.path.join(work, f"burn_{threads}_{group}.json")))["mean"]["point_estimate"]
    return tokens / (mean_ns * 1e-9)
print(f"{'workload':<34}{'threads':>8}{'adaptbench tok/s':>18}{'PyTorch tok/s':>15}{'ratio':>8}")
for threads in (1, 2):
    for name, section, group, tokens in (
        ("train step, batch 64 x 64", "a_pretrain", "train_step_d64_l2", 64 * 64),
        ("forward, batch 256 x 64", "c_eval_fwd", "forward_d64_l2", 256 * 64),
    ):
        ours, theirs = burn(threads, group, tokens), torch(threads, section)
        print(f"{name:<34}{threads:>8}{ours:>18,.0f}{theirs:>15,.0f}{ours / theirs:>8.2f}")
PY
