"""Benchmark: loop vs vectorised 2-D correlation vs torch.nn.functional.conv2d (CPU).

The configuration of the course's issue: x of shape (100, 3, 31, 31), a bank w of
shape (25, 3, 3, 3), stride 1, padding 1, float32 (PyTorch's default).

The loop version takes about a minute on this input, so by default it runs on the
first few images only and its time is scaled to the whole batch (its cost is exactly
linear in the number of images); the table says so. Every implementation's output is
checked against PyTorch's before any time is reported.

Usage::

    python benchmarks/bench_conv.py                 # loop on 2 images, extrapolated
    python benchmarks/bench_conv.py --loop-images 100   # the loop on the whole batch
    python benchmarks/bench_conv.py --threads 1     # one thread for NumPy and PyTorch
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Callable

import numpy as np
import torch

from cnncourse.filters import correlate2d, correlate2d_loop

SHAPE_X = (100, 3, 31, 31)
SHAPE_W = (25, 3, 3, 3)
STRIDE, PADDING = 1, 1


def best_times(fns: dict[str, Callable[[], object]], *, repeats: int) -> dict[str, float]:
    """Fastest of ``repeats`` runs of each function, in seconds.

    The functions take turns (a, b, a, b, ...) after one warm-up run each, so a burst of
    load from other processes slows them alike instead of landing on one of them.
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-images", type=int, default=2,
                        help="images the loop version runs on (default 2 of 100; "
                             "its time is scaled to 100)")
    parser.add_argument("--repeats", type=int, default=50,
                        help="timed runs of the fast versions; the best is kept")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for PyTorch and for NumPy's BLAS (default: each "
                             "library's own choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.loop_images <= SHAPE_X[0]:
        parser.error(f"--loop-images must be between 1 and {SHAPE_X[0]}, got {args.loop_images}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        try:  # NumPy's BLAS too, so both sides get the same cores
            from threadpoolctl import threadpool_limits
        except ImportError:
            print("threadpoolctl is not installed: NumPy's BLAS keeps its own thread count")
        else:
            threadpool_limits(limits=args.threads, user_api="blas")

    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal(SHAPE_X).astype(np.float32)
    w = rng.standard_normal(SHAPE_W).astype(np.float32)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)

    def run_torch() -> np.ndarray:
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, stride=STRIDE, padding=PADDING).numpy()

    def run_vectorised() -> np.ndarray:
        return correlate2d(x, w, stride=STRIDE, padding=PADDING)

    subset = x[: args.loop_images]

    def run_loop() -> np.ndarray:
        return correlate2d_loop(subset, w, stride=STRIDE, padding=PADDING)

    # Correctness first: all three must agree (float32 sums in different orders).
    reference = run_torch()
    if not np.allclose(run_vectorised(), reference, atol=1e-4):
        raise SystemExit("vectorised output differs from torch: not timing a wrong result")
    start = time.perf_counter()
    loop_out = run_loop()
    loop_time = (time.perf_counter() - start) * SHAPE_X[0] / args.loop_images
    if not np.allclose(loop_out, reference[: args.loop_images], atol=1e-4):
        raise SystemExit("loop output differs from torch: not timing a wrong result")

    times = {"loop": loop_time}
    times.update(best_times({"vectorised": run_vectorised, "torch": run_torch},
                            repeats=args.repeats))
    scaled = args.loop_images < SHAPE_X[0]

    print(f"x {SHAPE_X}, w {SHAPE_W}, stride {STRIDE}, padding {PADDING}, float32")
    print(f"numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {platform.processor() or platform.machine()}")
    print()
    print(f"{'method':<12}{'time':>12}{'loop / this':>14}{'this / torch':>14}")
    for name, seconds in times.items():
        label = name + ("*" if name == "loop" and scaled else "")
        print(f"{label:<12}{seconds * 1e3:>10.2f} ms"
              f"{times['loop'] / seconds:>13.0f}x{seconds / times['torch']:>13.1f}x")
    if scaled:
        print(f"\n* loop timed once on {args.loop_images} of {SHAPE_X[0]} images and scaled "
              f"by {SHAPE_X[0] / args.loop_images:g} (its cost is linear in the batch)")
    print(f"Fast versions: best of {args.repeats} interleaved runs after a warm-up.")
    return times


if __name__ == "__main__":
    main()
