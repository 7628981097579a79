#!/usr/bin/env python3
"""The PyTorch peer (../shared/peers/bench_torch.py) with every model wrapped in torch.compile (inductor, CPU).

The peer's own sections run unchanged: only its model class is replaced by a factory that returns the
compiled module (same parameters, so the optimizer and the parameter count are the peer's). Compilation
happens in the peer's warm-up steps, outside the timed ones.

  python benches/torch_compiled.py --threads 1 --only a,c --out torch_compiled_1.json
"""
import importlib.util
import os
import sys

import torch

peer_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers", "bench_torch.py")
spec = importlib.util.spec_from_file_location("bench_torch", peer_path)
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)

eager_model = peer.DecoderLM


def compiled_model(*args, **kwargs):
    return torch.compile(eager_model(*args, **kwargs))


peer.DecoderLM = compiled_model

if __name__ == "__main__":
    sys.argv[0] = peer_path
    peer.main()
