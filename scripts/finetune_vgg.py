"""Fine-tune VGG16 (ImageNet weights) on Flowers-102 with one of the course's profiles.

The chapter "Ajuste fino de VGG" runs the same recipe
(``cnncourse.train.vgg16_flowers_recipe``) inside the notebook; this script is for
the ``full`` run on a GPU and for recording the reference result the chapter shows
beside its live run. Strategy 1 (backbone frozen) and then strategy 2 (every layer,
the backbone with a ten times lower learning rate), as the recipe says.

Usage::

    # the quick profile on the CPU, offline (EfficientNet-Lite0 on generated shapes)
    python scripts/finetune_vgg.py --profile quick

    # the full profile on one GPU: VGG16's weights go to torch.hub's cache and
    # Flowers-102 into ~/cnncourse-data the first time (network needed once)
    python scripts/finetune_vgg.py --profile full \\
        --record cnncourse/reference/vgg16_flowers_full.json

    # on all the GPUs of a machine (each batch split among them)
    torchrun --standalone --nproc-per-node=gpu scripts/finetune_vgg.py --profile full \\
        --record cnncourse/reference/vgg16_flowers_full.json

Only rank 0 prints and writes the record.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import torch

from cnncourse.train import finetune_record, vgg16_flowers_recipe, write_record
from cnncourse.train.distributed import process_group, rank_zero_first


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("quick", "full"), default=None,
                        help="default: $CNNCOURSE_PROFILE, else full with CUDA, else quick")
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: $CNNCOURSE_DATA or ~/cnncourse-data)")
    parser.add_argument("--head-epochs", type=int, default=None,
                        help="epochs of strategy 1 (backbone frozen); override the recipe")
    parser.add_argument("--all-epochs", type=int, default=None,
                        help="epochs of strategy 2 (every layer); override the recipe")
    parser.add_argument("--workers", type=int, default=None,
                        help="DataLoader workers per process; override the recipe")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--seed", type=int, default=None, help="override the recipe")
    parser.add_argument("--random-weights", action="store_true",
                        help="start from random weights (a control run, or no network)")
    parser.add_argument("--record", default=None,
                        help="write the run's record (metrics, device, versions, seed, "
                             "time) to this JSON file, e.g. "
                             "cnncourse/reference/vgg16_flowers_full.json")
    args = parser.parse_args(argv)

    recipe = vgg16_flowers_recipe(args.profile)
    common = {"num_workers": args.workers, "seed": args.seed,
              "compile": True if args.compile else None}
    common = {k: v for k, v in common.items() if v is not None}
    head = dataclasses.replace(recipe.head_stage, **common,
                               **({"epochs": args.head_epochs} if args.head_epochs else {}))
    everything = dataclasses.replace(recipe.all_stage, **common,
                                     **({"epochs": args.all_epochs} if args.all_epochs else {}))
    if args.all_epochs:  # keep only the milestones that still fall inside the stage
        everything = dataclasses.replace(everything, lr_milestones=tuple(
            m for m in everything.lr_milestones if m < args.all_epochs))
    recipe = dataclasses.replace(recipe, head_stage=head, all_stage=everything)

    rank = int(os.environ.get("RANK", "0"))
    # One process group for both stages; rank 0 downloads while the others wait.
    with process_group(head.device):
        with rank_zero_first():
            train, val = recipe.datasets(root=args.data)
            torch.manual_seed(head.seed)  # the same new head everywhere
            model = recipe.model(pretrained=not args.random_weights)
        if rank == 0:
            print(f"profile {recipe.profile}: {recipe.network} "
                  f"({'random' if args.random_weights else 'ImageNet'} weights) on "
                  f"{recipe.dataset}, {len(train)} training and {len(val)} validation images "
                  f"at {recipe.image_size} px; {recipe.notes}", flush=True)
        result = recipe.run(model, train, val)

        record = finetune_record(result, recipe)
        record["weights"] = "random" if args.random_weights else "imagenet"
        record["command"] = " ".join([Path(sys.argv[0]).name, *(argv if argv is not None
                                                                 else sys.argv[1:])])
        if rank == 0:
            m = record["metrics"]
            print(f"{m['epochs']} epochs ({m['head_stage_epochs']} head only) on "
                  f"{record['world_size']} x {record['device_name']}: validation accuracy "
                  f"{m['head_stage_val_acc']:.3f} after strategy 1, {m['final_val_acc']:.3f} "
                  f"at the end (best {m['best_val_acc']:.3f}), "
                  f"{record['time_s']['total'] / 60:.1f} min", flush=True)
            if args.record:
                print(f"record written to {write_record(record, args.record)}")
        return record


if __name__ == "__main__":
    main()
