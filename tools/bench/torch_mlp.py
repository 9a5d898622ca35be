#!/usr/bin/python3
"""PyTorch peer of bench_mlp: trains the same MLP 784-256-256-10 (ReLU, SGD momentum 0.9) on
Fashion-MNIST with the same loop (shuffle per epoch, gather a batch, forward, cross-entropy,
backward, step; the last batch of an epoch may be partial) and prints one JSON line per
(batch, threads) setting: {"batch": B, "threads": T, "samples_per_s": ..., "loss": ...}.

Run with Debian's interpreter, which has python3-torch: /usr/bin/python3 torch_mlp.py --help
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return x, torch.from_numpy(labels.astype(np.int64))


def measure(x, y, batch, threads, steps, warmup, repeats, seed):
    """Best samples/s over `repeats` timed runs of `steps` steps each, after `warmup` steps."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(y)
    state = {"order": torch.randperm(n), "at": 0}

    def next_batch():
        if state["at"] >= n:
            state["order"], state["at"] = torch.randperm(n), 0
        idx = state["order"][state["at"]:state["at"] + batch]
        state["at"] += batch
        return x[idx], y[idx]

    def step():
        xb, yb = next_batch()
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(warmup):
        step()
    best, samples, loss = 0.0, 0, None
    for _ in range(repeats):
        done = 0
        start = time.perf_counter()
        for _ in range(steps):
            before = state["at"]
            loss = step()
            done += min(batch, n - before) if before < n else batch
        seconds = time.perf_counter() - start
        best = max(best, done / seconds)
        samples += done
    return {"batch": batch, "threads": threads, "samples_per_s": best, "loss": float(loss)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=60000,
                        help="samples per timed run (rounded up to whole steps)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    x, y = load(args.data)
    for batch in args.batch:
        for threads in args.threads:
            steps = -(-args.samples // batch)
            result = measure(x, y, batch, threads, steps, max(20, steps // 20), args.repeats,
                             args.seed)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
