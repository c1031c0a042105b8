"""GPU throughput: ResNet-18 and VGG16 on CIFAR-sized random data, images per second.

For each model: a hand-written loop and kerasish fit, each in fp32, bf16 autocast,
channels_last and jit_compile (torch.compile); plus the lecture's headline, VGG16
forward+backward speed on the GPU versus the CPU. Written for a CUDA machine; `--device cpu
--quick` is a smoke run of the same code.

    python benchmarks/gpu.py [--steps 50] [--batch 128] [--json gpu.json]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from contextlib import redirect_stderr, redirect_stdout

import torch
import torchvision
from torch import nn

import kerasish as K

VARIANTS = {
    "fp32": {},
    "bf16": {"mixed_precision": "bf16"},
    "channels_last": {"channels_last": True},
    "jit_compile": {"jit_compile": True},
}


def make(name: str) -> nn.Module:
    if name == "resnet18":
        return torchvision.models.resnet18(num_classes=10)
    net = torchvision.models.vgg16(num_classes=10)
    net.avgpool = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(512, 10)
    return net


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def raw_loop(name, variant, x, y, steps, batch, device) -> float:
    net = make(name).to(device)
    if variant == "channels_last":
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    step_fn = net if variant != "jit_compile" else torch.compile(net)
    amp = variant == "bf16"

    def one(i):
        xb, yb = x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = nn.functional.cross_entropy(step_fn(xb), yb)
        loss.backward()
        opt.step()

    for i in range(3):
        one(i % (len(x) // batch))
    sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        one(i % (len(x) // batch))
    sync(device)
    return steps * batch / (time.perf_counter() - t0)


def kerasish_fit(name, variant, x, y, steps, batch, device) -> float:
    model = K.Model.wrap(make(name))
    model.compile(
        optimizer=torch.optim.SGD, loss="cross_entropy", device=device, **VARIANTS[variant]
    )
    model.optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = steps * batch
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        model.fit(x[: 3 * batch], y[: 3 * batch], batch_size=batch, epochs=1, verbose=0)
        sync(device)
        t0 = time.perf_counter()
        model.fit(x[:n], y[:n], batch_size=batch, epochs=1, shuffle=False, verbose=0)
        sync(device)
    return n / (time.perf_counter() - t0)


def vgg_speed(device: torch.device, batch: int, steps: int) -> float:
    net = make("vgg16").to(device)
    x = torch.randn(batch, 3, 224, 224, device=device)
    for _ in range(2):
        net(x).sum().backward()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        net(x).sum().backward()
    sync(device)
    return steps * batch / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    steps, batch = (2, 8) if args.quick else (args.steps, args.batch)
    n = (steps + 3) * batch
    x = torch.randn(n, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (n,), device=device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}, torch {torch.__version__}, batch {batch}, {steps} steps")
    print(f"{'model':9} {'variant':14} {'raw img/s':>10} {'kerasish img/s':>15} {'time ratio':>10}")
    results: dict = {"device": name, "rows": []}
    for model in ("resnet18", "vgg16"):
        for variant in VARIANTS:
            raw = raw_loop(model, variant, x, y, steps, batch, device)
            ours = kerasish_fit(model, variant, x, y, steps, batch, device)
            results["rows"].append(
                {"model": model, "variant": variant, "raw": raw, "kerasish": ours}
            )
            print(f"{model:9} {variant:14} {raw:10.0f} {ours:15.0f} {raw / ours:10.3f}", flush=True)
    vgg_batch, vgg_steps = (2, 1) if args.quick else (32, 10)
    gpu = vgg_speed(device, vgg_batch, vgg_steps)
    cpu = vgg_speed(torch.device("cpu"), 2 if args.quick else 8, 1 if args.quick else 2)
    results["vgg16_fwd_bwd_224"] = {"device_img_s": gpu, "cpu_img_s": cpu}
    print(
        f"VGG16 forward+backward at 224x224: {gpu:.1f} img/s on {name}, {cpu:.2f} img/s on "
        f"CPU ({gpu / cpu:.0f}x)"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
