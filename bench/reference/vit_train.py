#!/usr/bin/env python3
"""PyTorch reference for vitseg's training benchmark (outside the product: never imported or shipped).

It implements the Vision Transformer of "Efficient Image Segmentation using PyTorch, Part 4" exactly as vitseg's
GoMLX network does (BatchNorm2d(3) on the raw image, nn.Unfold patches, Linear patch embedding plus a learned
position embedding, pre-LayerNorm encoder blocks with nn.MultiheadAttention(batch_first=True) and an
E -> 4E GELU -> E MLP with dropout, a Linear head and nn.Fold), and trains it with the article's recipe (Adam 4e-4,
pixel-wise cross-entropy) on random images and labels.

Modes:
  vit_train.py --preset small --steps 5         run 1 warm-up step and 5 timed steps, print one JSON line
  vit_train.py --preset article --serve         interactive: print {"ready": true, ...}, then for every line
                                                "N" on stdin run N timed steps and print one JSON line
Every JSON line holds images_per_s and params. The serve mode lets bench/cmd/vitseg-bench interleave PyTorch and
GoMLX steps in one run, on a machine whose load drifts.
"""

import argparse
import json
import os
import sys
import time

import torch
from torch import nn

# name: (image_size, patch_size, in_channels, classes, embed, blocks, heads, dropout, expected parameters)
PRESETS = {
    "article": (128, 16, 3, 3, 768, 12, 8, 0.2, 86_284_806),
    "small": (128, 16, 3, 3, 256, 6, 8, 0.2, 5_149_190),
    "tiny": (128, 16, 3, 3, 32, 2, 4, 0.1, None),
}


class EncoderBlock(nn.Module):
    """The article's SelfAttentionEncoderBlock: pre-LN self-attention and pre-LN MLP, both residual."""

    def __init__(self, embed, heads, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(embed)
        self.mha = nn.MultiheadAttention(embed, heads, dropout=dropout, batch_first=True)
        self.ln2 = nn.LayerNorm(embed)
        self.mlp = nn.Sequential(
            nn.Linear(embed, 4 * embed),
            nn.GELU(),
            nn.Linear(4 * embed, embed),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        y = self.ln1(x)
        x = x + self.mha(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class ViTSegmentation(nn.Module):
    """The article's VisionTransformerForSegmentation: images (B, C, H, W) -> logits (B, classes, H, W)."""

    def __init__(self, image_size, patch_size, in_channels, classes, embed, blocks, heads, dropout):
        super().__init__()
        patches = (image_size // patch_size) ** 2
        self.bn = nn.BatchNorm2d(in_channels)
        self.unfold = nn.Unfold(kernel_size=patch_size, stride=patch_size)
        self.patch_embedding = nn.Linear(in_channels * patch_size * patch_size, embed)
        self.position_embedding = nn.Parameter(torch.randn(1, patches, embed))
        self.blocks = nn.Sequential(*[EncoderBlock(embed, heads, dropout) for _ in range(blocks)])
        self.output_projection = nn.Linear(embed, classes * patch_size * patch_size)
        self.fold = nn.Fold(output_size=(image_size, image_size), kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        x = self.bn(x)
        x = self.unfold(x).permute(0, 2, 1)  # (B, patches, C*p*p), channel-major patches
        x = self.patch_embedding(x) + self.position_embedding
        x = self.blocks(x)
        x = self.output_projection(x)  # (B, patches, classes*p*p)
        return self.fold(x.permute(0, 2, 1))


def build(preset):
    size, patch, chans, classes, embed, blocks, heads, dropout, want = PRESETS[preset]
    model = ViTSegmentation(size, patch, chans, classes, embed, blocks, heads, dropout)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if want is not None:
        assert params == want, f"{preset}: {params:,} parameters, want {want:,}"
    return model, params, size, classes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (non-serve mode)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps before timing")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads (default: cores)")
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", action="store_true", help="run N steps per line of stdin")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, params, size, classes = build(args.preset)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    images = torch.rand(args.batch, 3, size, size)
    labels = torch.randint(0, classes, (args.batch, size, size))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), labels)
        loss.backward()
        opt.step()
        return loss.item()

    def timed(steps):
        start = time.perf_counter()
        loss = float("nan")
        for _ in range(steps):
            loss = step()
        seconds = time.perf_counter() - start
        return {
            "images_per_s": steps * args.batch / seconds,
            "params": params,
            "steps": steps,
            "seconds": seconds,
            "loss": loss,
        }

    for _ in range(args.warmup):
        step()
    info = {"preset": args.preset, "params": params, "batch": args.batch, "threads": torch.get_num_threads(),
            "torch": torch.__version__}
    if not args.serve:
        print(json.dumps({**timed(args.steps), **info}), flush=True)
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        print(json.dumps(timed(int(line))), flush=True)


if __name__ == "__main__":
    main()
