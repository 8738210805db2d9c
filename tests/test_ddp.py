"""DistributedDataParallel on the CPU: two gloo processes must train like one.

The two workers are started the way ``torchrun`` starts them (environment variables
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so ``fit`` takes its DDP path:
process group, DistributedSampler, gradient averaging, rank-0 checkpoint.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

WORKER = textwrap.dedent(
    '''
    import os
    import sys

    import torch
    from torch import nn

    from cnncourse.train import TrainConfig, fit


    def make_data(n, seed):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n, 1, 6, 6, generator=g)
        y = (x[:, 0, :3].mean(dim=(1, 2)) > x[:, 0, 3:].mean(dim=(1, 2))).long()
        return x, y


    def make_model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2))


    def make_config(**options):
        # batch_size is the global batch: 8 examples per process with 2 processes.
        return TrainConfig(epochs=3, batch_size=16, lr=0.05, weight_decay=1e-3,
                           lr_milestones=(2,), device="cpu", progress=False, **options)


    if __name__ == "__main__":
        torch.set_num_threads(1)
        out = sys.argv[1]
        model = make_model()
        # 33 validation examples: the two shards differ in size (17 and 16).
        result = fit(model, make_data(64, 0), make_data(33, 1),
                     make_config(checkpoint=os.path.join(out, "ddp.pt")))
        rank = int(os.environ["RANK"])
        torch.save({"state": model.state_dict(), "history": result.history,
                    "world_size": result.world_size},
                   os.path.join(out, f"rank{rank}.pt"))
    '''
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_train_like_one_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port = _free_port()
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                   LOCAL_WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
        procs.append(subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    try:
        outputs = [p.communicate(timeout=180)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for rank, (p, output) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"rank {rank} failed:\n{output}"

    # The same computation in this process, on the same data, with the same config.
    namespace: dict = {"__name__": "ddp_worker"}
    exec(compile(WORKER, str(script), "exec"), namespace)
    from cnncourse.train import fit

    model = namespace["make_model"]()
    single = fit(model, namespace["make_data"](64, 0), namespace["make_data"](33, 1),
                 namespace["make_config"]())

    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    for name, value in model.state_dict().items():
        # DDP keeps the replicas identical, and equal to the one-process run up to
        # the order of floating-point sums.
        assert torch.equal(ranks[0]["state"][name], ranks[1]["state"][name]), name
        assert torch.allclose(ranks[0]["state"][name], value, atol=1e-5), name
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert ranks[0]["history"][key] == pytest.approx(single.history[key], abs=1e-5), key
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert ranks[0]["history"][key] == ranks[1]["history"][key], key  # all-reduced
    # Only rank 0 writes the checkpoint, and it holds the trained weights.
    saved = torch.load(tmp_path / "ddp.pt", weights_only=False)
    assert saved["epoch"] == 3 and len(saved["rng"]) == 2
    assert torch.equal(saved["model"]["3.weight"], ranks[0]["state"]["3.weight"])
