"""Train the paper's AlexNet with one of the course's profiles, on one or many GPUs.

The chapter "Entrenar AlexNet" runs the same recipe (``cnncourse.train.alexnet_recipe``)
inside the notebook; this script is for the long ``full`` run, for several GPUs, and
for recording the reference result the chapter shows beside its live run.

Usage::

    # the quick profile on the CPU (about a minute on two idle cores)
    python scripts/train_alexnet.py --profile quick

    # the full profile on one GPU, Imagenette downloaded into ~/cnncourse-data
    python scripts/train_alexnet.py --profile full --checkpoint runs/alexnet.pt

    # on all the GPUs of a machine (the batch of 128 is split among them), and
    # record the result as the book's reference run
    torchrun --standalone --nproc-per-node=gpu scripts/train_alexnet.py \\
        --profile full --checkpoint runs/alexnet.pt \\
        --record cnncourse/reference/alexnet_full.json

    # continue an interrupted run from its last checkpoint
    torchrun --standalone --nproc-per-node=gpu scripts/train_alexnet.py \\
        --profile full --checkpoint runs/alexnet.pt --resume

Only rank 0 prints, writes checkpoints and writes the record.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import torch

from cnncourse.train import alexnet_recipe, fit, run_record, write_record
from cnncourse.train.distributed import process_group, rank_zero_first


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("quick", "full"), default=None,
                        help="default: $CNNCOURSE_PROFILE, else full with CUDA, else quick")
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: $CNNCOURSE_DATA or ~/cnncourse-data)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="global batch (all processes together); override the recipe")
    parser.add_argument("--lr", type=float, default=None, help="override the recipe")
    parser.add_argument("--workers", type=int, default=None,
                        help="DataLoader workers per process; override the recipe")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint file written after every epoch")
    parser.add_argument("--resume", action="store_true",
                        help="continue from --checkpoint if it exists")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    parser.add_argument("--seed", type=int, default=None, help="override the recipe")
    parser.add_argument("--record", default=None,
                        help="write the run's record (metrics, device, versions, seed, "
                             "time) to this JSON file, e.g. "
                             "cnncourse/reference/alexnet_full.json")
    args = parser.parse_args(argv)

    recipe = alexnet_recipe(args.profile)
    overrides = {
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "num_workers": args.workers, "checkpoint": args.checkpoint, "seed": args.seed,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.resume:
        overrides["resume"] = True
    if args.compile:
        overrides["compile"] = True
    if args.no_amp:
        overrides["amp"] = False
    config = dataclasses.replace(recipe.config, **overrides)
    recipe = dataclasses.replace(recipe, config=config)
    rank = int(os.environ.get("RANK", "0"))
    # The process group is set up here (fit would do it otherwise) so that rank 0 can
    # download the dataset while the others wait, instead of all of them at once.
    with process_group(config.device):
        with rank_zero_first():
            train, val = recipe.datasets(root=args.data)
        # The same initial weights in every process (DDP would broadcast rank 0's anyway).
        torch.manual_seed(config.seed)
        model = recipe.model()
        if rank == 0:
            print(f"profile {recipe.profile}: {recipe.dataset}, {len(train)} training and "
                  f"{len(val)} validation images at {recipe.image_size} px; {recipe.notes}",
                  flush=True)
        result = fit(model, train, val, config)

        record = run_record(result, recipe)
        record["command"] = " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])
        if rank == 0:
            m = record["metrics"]
            print(
                f"{m['epochs']} epochs on {result.world_size} x {result.device_name}: "
                f"final validation accuracy {m['final_val_acc']:.3f} (best {m['best_val_acc']:.3f} "
                f"at epoch {m['best_epoch']}), {result.images_per_second:.0f} images/s, "
                f"{result.total_time_s / 60:.1f} min",
                flush=True,
            )
            if args.record:
                print(f"record written to {write_record(record, args.record)}")
        return record


if __name__ == "__main__":
    main()
