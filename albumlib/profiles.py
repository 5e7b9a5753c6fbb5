"""Run profiles: smoke (CI, seconds), cpu (a laptop, minutes), full (a Colab GPU, the real runs).

The profile is read in one place, here, from the ALBUM_PROFILE environment variable. Without it
the profile is `full` when a GPU is visible and `cpu` otherwise. Every notebook's setup cell prints
the active profile (taught in notebook 01's setup section).
"""

import dataclasses
import os
from pathlib import Path

PROFILE_NAMES = ("smoke", "cpu", "full")


@dataclasses.dataclass(frozen=True)
class Profile:
    """Sizes and step counts of one profile; notebooks and commands read them from here."""

    name: str
    image_size: int          # long side of images repainted by Gatys' method, in pixels
    gatys_steps: int         # optimisation steps per photo
    gatys_optimizer: str     # "adam" or "lbfgs"
    album_limit: int         # photos of the sample album used by the demo (0: all)
    demo_steps: int          # Gatys steps per photo in `python -m albumlib demo`
    feature_map_size: int    # image size used for feature-map and Gram figures
    slider_steps: int        # steps per setting of notebook 01's style-weight slider
    fast_steps: int          # training steps of a fast style network (notebook 02)
    fast_crop: int           # training crop size of the fast network
    fast_batch: int          # training batch size of the fast network
    fast_filters: tuple      # widths of the fast network (smaller in smoke for speed)
    fast_residual_blocks: int
    fast_data: str           # "album" (bundled photos) or "coco" (MS-COCO train2014)
    music_limit: int         # songs of the music folder used by notebooks 03-05 (0: all)
    music_seconds: float     # seconds kept from each song (0: whole songs)
    music_block_size: int    # samples per block of the music model (the report: 44,100)
    music_hidden: int        # LSTM units (the report: 512)
    music_epochs: int        # training epochs of the music model (notebook 04)
    music_batch: int         # sequences per batch
    music_checkpoint_every: int  # epochs between checkpoints (the report: 500)


PROFILES = {
    "smoke": Profile("smoke", image_size=64, gatys_steps=4, gatys_optimizer="adam",
                     album_limit=2, demo_steps=2, feature_map_size=64, slider_steps=2,
                     fast_steps=3, fast_crop=32, fast_batch=2, fast_filters=(8, 16, 16),
                     fast_residual_blocks=1, fast_data="album",
                     music_limit=2, music_seconds=12.0, music_block_size=1024, music_hidden=32,
                     music_epochs=2, music_batch=4, music_checkpoint_every=1),
    "cpu": Profile("cpu", image_size=256, gatys_steps=200, gatys_optimizer="adam",
                   album_limit=0, demo_steps=100, feature_map_size=224, slider_steps=60,
                   fast_steps=300, fast_crop=128, fast_batch=4, fast_filters=(32, 64, 128),
                   fast_residual_blocks=5, fast_data="album",
                   music_limit=0, music_seconds=0.0, music_block_size=4096, music_hidden=256,
                   music_epochs=10, music_batch=8, music_checkpoint_every=5),
    "full": Profile("full", image_size=512, gatys_steps=500, gatys_optimizer="adam",
                    album_limit=0, demo_steps=300, feature_map_size=512, slider_steps=200,
                    fast_steps=41_392, fast_crop=256, fast_batch=4, fast_filters=(32, 64, 128),
                    fast_residual_blocks=5, fast_data="coco",  # 2 epochs of COCO at batch 4
                    music_limit=0, music_seconds=0.0, music_block_size=44100, music_hidden=512,
                    music_epochs=500, music_batch=8, music_checkpoint_every=100),
}


def gpu_present():
    """Return True when an NVIDIA GPU is visible, without importing TensorFlow."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def profile_name():
    """Return the active profile's name (ALBUM_PROFILE, else full with a GPU, else cpu)."""
    name = os.environ.get("ALBUM_PROFILE", "").strip().lower()
    if not name:
        return "full" if gpu_present() else "cpu"
    if name not in PROFILES:
        raise ValueError(f"ALBUM_PROFILE={name!r} is not one of {', '.join(PROFILE_NAMES)}")
    return name


def get_profile(name=None):
    """Return the Profile for `name` (default: the active one); printed by each setup cell."""
    return PROFILES[name or profile_name()]
