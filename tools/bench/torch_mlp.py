#!/usr/bin/python3
"""PyTorch peer of bench_mlp: trains the same MLP 784-256-256-10 (ReLU, SGD momentum 0.9) on
Fashion-MNIST with the same loop (shuffle per epoch, gather a batch, forward, cross-entropy,
backward, step; the last batch of an epoch may be partial). PyTorch gets its fastest idiomatic
loop: SGD with foreach=True (one fused kernel per step for all parameters) and
zero_grad(set_to_none=True).

Threads: torch.set_num_threads(T) sets PyTorch's own (intra-op) threads, but Debian's PyTorch
does its GEMMs in OpenBLAS, whose threads it leaves alone: unpinned, OpenBLAS uses every core
even at T = 1. Each setting here pins both, OpenBLAS through its own call.

Two modes:
  torch_mlp.py [--batch 32 128] [--threads 1 2] [--blas-threads N] [--samples S] [--repeats R]
      prints one JSON line per (batch, threads): the best of R timed runs of S samples.
  torch_mlp.py --serve
      reads requests "BATCH THREADS BLAS_THREADS SAMPLES" on stdin, one per line, and answers
      each with one JSON line for one timed run (the first request of a setting warms it up
      first), so that bench_mlp can interleave PyTorch's runs with its own.
Each JSON line: {"batch", "threads", "blas_threads", "samples_per_s", "loss"}, the loss being
the mean over the timed run.
"""
import argparse
import ctypes
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


def set_threads(threads, blas_threads):
    torch.set_num_threads(threads)
    # OpenBLAS is loaded once per process (torch links it): this pins the instance torch uses.
    ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(blas_threads)


class Training:
    """One setting's model, optimizer and data order, kept between timed runs."""

    def __init__(self, x, y, batch, seed):
        torch.manual_seed(seed)
        self.x, self.y, self.batch = x, y, batch
        self.model = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 10))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9,
                                         foreach=True)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.order, self.at = torch.randperm(len(y)), 0

    def step(self):
        n = len(self.y)
        if self.at >= n:
            self.order, self.at = torch.randperm(n), 0
        idx = self.order[self.at:self.at + self.batch]
        self.at += self.batch
        xb, yb = self.x[idx], self.y[idx]
        loss = self.loss_fn(self.model(xb), yb)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return len(yb), loss.detach()

    def run(self, steps):
        """(samples/s, mean loss) of `steps` steps."""
        done, loss_sum = 0, 0.0
        start = time.perf_counter()
        for _ in range(steps):
            rows, loss = self.step()
            done += rows
            loss_sum += rows * loss  # a tensor: no sync to Python inside the timed loop
        seconds = time.perf_counter() - start
        return done / seconds, float(loss_sum) / done


def result(batch, threads, blas_threads, speed, loss):
    return json.dumps({"batch": batch, "threads": threads, "blas_threads": blas_threads,
                       "samples_per_s": speed, "loss": loss})


def serve(x, y, seed):
    trainings = {}
    for line in sys.stdin:
        batch, threads, blas_threads, samples = (int(v) for v in line.split())
        set_threads(threads, blas_threads)
        steps = -(-samples // batch)
        key = (batch, threads, blas_threads)
        if key not in trainings:
            trainings[key] = Training(x, y, batch, seed)
            trainings[key].run(steps)  # warm-up: as long as a timed run, as bench_mlp's
        speed, loss = trainings[key].run(steps)
        print(result(batch, threads, blas_threads, speed, loss), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--serve", action="store_true", help="answer requests from stdin")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch.set_num_threads values")
    parser.add_argument("--blas-threads", type=int, default=0,
                        help="OpenBLAS threads (default: the same as --threads)")
    parser.add_argument("--samples", type=int, default=60000,
                        help="samples per timed run (rounded up to whole steps)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    x, y = load(args.data)
    if args.serve:
        serve(x, y, args.seed)
        return 0
    for batch in args.batch:
        for threads in args.threads:
            blas_threads = args.blas_threads or threads
            set_threads(threads, blas_threads)
            training = Training(x, y, batch, args.seed)
            steps = -(-args.samples // batch)
            training.run(steps)  # warm-up
            runs = [training.run(steps) for _ in range(args.repeats)]
            speed = max(speed for speed, _ in runs)
            print(result(batch, threads, blas_threads, speed, runs[-1][1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
