#!/usr/bin/env python3
"""PyTorch reference for vitseg on a GPU (outside the product: never imported or shipped).

The same network as vit_train.py (the article's ViT, same parameter counts), measured on one device:
inference images/s at several batch sizes (eval mode, no grad, float32) and training images/s at one batch size
(Adam 4e-4, pixel-wise cross-entropy), with CUDA synchronisation around every timed region. One JSON line per
measurement, as bench/cmd/vitseg-gpucheck prints them.
"""

import argparse
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_train import build  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(fn, batch, device, min_time):
    for _ in range(2):
        fn()
    sync(device)
    start, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - start < min_time:
        fn()
        calls += 1
        sync(device)
    return calls * batch / (time.perf_counter() - start), calls


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--presets", default="small,article")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--train-batch", type=int, default=16)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--min-time", type=float, default=2.0)
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(1)
    print(json.dumps({"event": "runtime", "torch": torch.__version__, "cuda": torch.version.cuda,
                      "cudnn": torch.backends.cudnn.version(),
                      "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}), flush=True)
    for preset in args.presets.split(","):
        model, params, size, classes = build(preset)
        model.to(device).eval()
        for b in (int(x) for x in args.batches.split(",")):
            x = torch.rand(b, 3, size, size, device=device)

            def infer():
                with torch.no_grad():
                    model(x)

            ips, calls = measure(infer, b, device, args.min_time)
            print(json.dumps({"event": "inference", "impl": "pytorch", "preset": preset, "device": args.device,
                              "batch": b, "images_per_s": ips, "calls": calls, "params": params}), flush=True)
        if args.train_batch > 0:
            model.train()
            opt = torch.optim.Adam(model.parameters(), lr=4e-4)
            loss_fn = nn.CrossEntropyLoss()
            b = args.train_batch
            x = torch.rand(b, 3, size, size, device=device)
            y = torch.randint(0, classes, (b, size, size), device=device)

            def step():
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()

            ips, calls = measure(step, b, device, args.min_time)
            print(json.dumps({"event": "train", "impl": "pytorch", "preset": preset, "device": args.device,
                              "batch": b, "images_per_s": ips, "steps": calls, "params": params}), flush=True)


if __name__ == "__main__":
    main()
