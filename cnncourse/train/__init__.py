"""Training of the course: :class:`TrainConfig`, :func:`fit`, recipes and run records.

``fit`` trains a model it is given (it never re-initialises it) and returns what it
measured: the per-epoch history, timings, images per second, the device and the seed.
Around the plain loop (forward, loss, backward, step) it adds what real training needs,
each switched on by the config:

- evaluation on held-out data after every epoch, and early stopping on it;
- checkpoints that hold everything needed to resume exactly (model, optimiser,
  scheduler, epoch, history, random-number state);
- on CUDA: bfloat16 autocast, ``channels_last`` memory format, optional
  ``torch.compile``;
- several processes with DistributedDataParallel when started by ``torchrun``
  (``gloo`` on the CPU, ``nccl`` on GPUs); only rank 0 shows progress and writes
  checkpoints.

One module per job, each small enough to read in one sitting:

- :mod:`~cnncourse.train.config`: :class:`TrainConfig` and the ``quick``/``full``
  profiles (:func:`resolve_profile`, ``$CNNCOURSE_PROFILE``);
- :mod:`~cnncourse.train.loop`: :func:`fit`, :func:`train_epoch`, :func:`evaluate`;
- :mod:`~cnncourse.train.losses`: the losses and the metric reported with each;
- :mod:`~cnncourse.train.optim`: optimiser (with parameter groups) and schedule;
- :mod:`~cnncourse.train.checkpoints`: saving and resuming;
- :mod:`~cnncourse.train.distributed`: device, processes, random-number state;
- :mod:`~cnncourse.train.recipes`: :class:`Recipe` and :func:`alexnet_recipe`;
  :class:`FinetuneRecipe` and :func:`vgg16_flowers_recipe`;
- :mod:`~cnncourse.train.records`: run records and stored reference results.

Weight initialisation lives with the models (:func:`cnncourse.models.init_weights`)
and is re-exported here.
"""

from cnncourse.models.init import init_weights
from cnncourse.train.config import (
    LOSSES,
    MONITORS,
    OPTIMIZERS,
    PROFILE_ENV,
    PROFILES,
    TrainConfig,
    resolve_profile,
)
from cnncourse.train.distributed import seed_everything
from cnncourse.train.loop import FitResult, evaluate, fit, train_epoch
from cnncourse.train.recipes import (
    FinetuneRecipe,
    FinetuneResult,
    Recipe,
    alexnet_recipe,
    vgg16_flowers_recipe,
)
from cnncourse.train.records import (
    REFERENCE_DIR,
    finetune_record,
    load_reference,
    run_record,
    write_record,
)

__all__ = [
    "PROFILES",
    "PROFILE_ENV",
    "OPTIMIZERS",
    "LOSSES",
    "MONITORS",
    "resolve_profile",
    "TrainConfig",
    "FitResult",
    "fit",
    "train_epoch",
    "evaluate",
    "seed_everything",
    "init_weights",
    "Recipe",
    "alexnet_recipe",
    "FinetuneRecipe",
    "FinetuneResult",
    "vgg16_flowers_recipe",
    "REFERENCE_DIR",
    "run_record",
    "load_reference",
    "finetune_record",
    "write_record",
]
