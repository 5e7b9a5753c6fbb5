"""Run profiles: smoke (CI, seconds), cpu (a laptop, minutes), gpu (a GPU, minutes), full (hours).

The profile is read in one place, here, from the ALBUM_PROFILE environment variable. Without it
the profile is `gpu` when a GPU is visible and `cpu` otherwise: `full` (MS-COCO, the report's
500 epochs: hours) is only ever chosen explicitly, with ALBUM_PROFILE=full. The first cell of
every notebook sets it (`ALBUM_PROFILE = ""` means automatic) and prints `describe_profile()`.

The bound: in every profile but `full`, no notebook cell should run longer than about
LONG_RUN_MINUTES. Cells that can take more than a couple of minutes print `estimate(...)` first,
from the profile's sizes and a rate measured on the spot, and it says so when the bound is passed
(a slower machine than the profile was sized for).
"""

import dataclasses
import os
from pathlib import Path

PROFILE_NAMES = ("smoke", "cpu", "gpu", "full")
LONG_RUN_MINUTES = 15       # the most one notebook cell should take in every profile but full


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
    fast_steps: int          # training steps of notebook 02's fast style network
    fast_crop: int           # training crop size of the fast network
    fast_batch: int          # training batch size of the fast network
    fast_filters: tuple      # widths of the fast network (smaller in smoke and cpu for speed)
    fast_residual_blocks: int
    fast_data: str           # "album" (bundled photos) or "coco" (MS-COCO train2014)
    fast_styles: int         # paintings of notebook 02's multi-style network (one per step)
    music_limit: int         # songs of the music folder used by notebooks 03-05 (0: all)
    music_seconds: float     # seconds kept from each song (0: whole songs)
    music_block_size: int    # samples per block of the music model (the report: 44,100)
    music_hidden: int        # LSTM units (the report: 512)
    music_epochs: int        # training epochs of the music model (notebook 04)
    music_batch: int         # sequences per batch
    music_checkpoint_every: int  # epochs between checkpoints (the report: 500)
    note_steps: int = 1500   # training steps of notebook 04's note model
    note_batch: int = 32     # token windows per step
    note_seq_len: int = 128  # tokens per window
    note_hidden: int = 256   # LSTM units of the note model (the bundled one: 256)


# How the sizes keep each notebook cell under LONG_RUN_MINUTES (measured rates from
# benchmarks/RESULTS.md on a 2-core Xeon; GPU rates worked out for a Colab T4: 8 TFLOP/s fp32 at
# its peak, taken as 3-4 TFLOP/s reached by convolutions, 320 GB/s of memory):
# - cpu: Gatys at 256 px is 0.43 s a step, 200 steps about 1.5 min a photo. The fast network's
#   step (128 px crops, batch 4) is mostly the VGG19 loss: about 0.7 s at widths 32-64-128 on a
#   quiet 2-core CPU, 1.2-1.4 s at 16-32-64 on one shared with another training run. Notebook
#   02's network for three paintings at 16-32-64 takes 360 steps (120 a painting): 5-9 min; its
#   appendix trains a one-painting network for 120 steps. The music models (blocks of 4,096,
#   256 units) train an epoch of the nine bundled songs in about 50 s; notebook 05 trains two of
#   them (variants A and C) in one cell, so 8 epochs (the bundled model's and RESULTS.md's count)
#   keep that cell near 13 min, where 10 took 16. The note model (0.94 M parameters) takes about
#   0.4 s a step of 32 windows of 128 tokens: 400 steps about 3 min (the bundled one: 1,500).
# - gpu: a Gatys step at 512 px is 406 GFLOP, about 0.1-0.15 s on a T4: 300 steps under a
#   minute a photo. A fast-network step (256 px crops, batch 4: 693 GFLOP) about 0.2 s in float32
#   (less with notebook 02's mixed precision): 2,000 steps about 7 min, on the bundled photos (no
#   13 GB COCO download), shared by notebook 02's six paintings. The music model at blocks of
#   8,192 samples and 512 units has 19 M parameters (9 GFLOP a step at batch 8, a few ms on a T4,
#   so the input pipeline sets the pace, about 10-30 ms a step); the bundled songs make about 190
#   steps an epoch, 2-6 s with the validation: 30 epochs take 1-3 min in notebook 04 and about
#   three times that in notebook 05 (two models, one of them with twice the steps): under 10 min.
#   The note model's 1,500 steps (the bundled model's) take a few minutes on any GPU.
# - full: the report's sizes (92.5 M-parameter music model, 500 epochs) and two epochs of
#   MS-COCO (41,392 steps): hours on a GPU, and a 13.5 GB download. Only ALBUM_PROFILE=full
#   selects it.
PROFILES = {
    "smoke": Profile("smoke", image_size=64, gatys_steps=4, gatys_optimizer="adam",
                     album_limit=2, demo_steps=2, feature_map_size=64, slider_steps=2,
                     fast_steps=4, fast_crop=32, fast_batch=2, fast_filters=(8, 16, 16),
                     fast_residual_blocks=1, fast_data="album", fast_styles=2,
                     music_limit=2, music_seconds=12.0, music_block_size=1024, music_hidden=32,
                     music_epochs=2, music_batch=4, music_checkpoint_every=1,
                     note_steps=16, note_batch=8, note_seq_len=32, note_hidden=64),
    "cpu": Profile("cpu", image_size=256, gatys_steps=200, gatys_optimizer="adam",
                   album_limit=0, demo_steps=100, feature_map_size=224, slider_steps=60,
                   fast_steps=360, fast_crop=128, fast_batch=4, fast_filters=(16, 32, 64),
                   fast_residual_blocks=5, fast_data="album", fast_styles=3,
                   music_limit=0, music_seconds=0.0, music_block_size=4096, music_hidden=256,
                   music_epochs=8, music_batch=8, music_checkpoint_every=4,
                   note_steps=400),
    "gpu": Profile("gpu", image_size=512, gatys_steps=300, gatys_optimizer="adam",
                   album_limit=0, demo_steps=200, feature_map_size=512, slider_steps=100,
                   fast_steps=2000, fast_crop=256, fast_batch=4, fast_filters=(32, 64, 128),
                   fast_residual_blocks=5, fast_data="album", fast_styles=6,
                   music_limit=0, music_seconds=0.0, music_block_size=8192, music_hidden=512,
                   music_epochs=30, music_batch=8, music_checkpoint_every=10),
    "full": Profile("full", image_size=512, gatys_steps=500, gatys_optimizer="adam",
                    album_limit=0, demo_steps=300, feature_map_size=512, slider_steps=200,
                    fast_steps=41_392, fast_crop=256, fast_batch=4, fast_filters=(32, 64, 128),
                    fast_residual_blocks=5, fast_data="coco", fast_styles=6,  # 2 COCO epochs
                    music_limit=0, music_seconds=0.0, music_block_size=44100, music_hidden=512,
                    music_epochs=500, music_batch=8, music_checkpoint_every=100),
}

PURPOSES = {
    "smoke": "tiny sizes for CI, seconds a notebook",
    "cpu": "small sizes for a laptop, minutes a notebook",
    "gpu": f"real results in minutes on a GPU such as Colab's T4, no cell over ~{LONG_RUN_MINUTES} min",
    "full": "the report's sizes and MS-COCO (a 13.5 GB download): hours on a GPU",
}


def gpu_present():
    """Return True when an NVIDIA GPU is visible, without importing TensorFlow."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def _requested():
    """The ALBUM_PROFILE environment variable, stripped and lower-cased ("" when unset)."""
    return os.environ.get("ALBUM_PROFILE", "").strip().lower()


def profile_name():
    """Return the active profile's name (ALBUM_PROFILE, else gpu with a GPU, else cpu; never full)."""
    name = _requested()
    if not name:
        return "gpu" if gpu_present() else "cpu"
    if name not in PROFILES:
        raise ValueError(f"ALBUM_PROFILE={name!r} is not one of {', '.join(PROFILE_NAMES)}")
    return name


def get_profile(name=None):
    """Return the Profile for `name` (default: the active one); printed by each setup cell."""
    return PROFILES[name or profile_name()]


def describe_profile():
    """The active profile, why it is active and how to change it: printed by each notebook's first cell."""
    name, requested, gpu = profile_name(), _requested(), gpu_present()
    if requested:
        why = f"ALBUM_PROFILE={requested}"
        if name in ("gpu", "full") and not gpu:
            why += ", but no GPU is visible: expect it to run much longer"
    else:
        why = "automatic: " + ("a GPU is visible" if gpu else "no GPU visible")
    choices = ", ".join(f'"{n}"' for n in PROFILE_NAMES)
    return (f"profile {name} ({why}): {PURPOSES[name]}.\n"
            f"To change it: ALBUM_PROFILE = one of {choices} in the first cell (or the ALBUM_PROFILE "
            f"environment variable, e.g. %env ALBUM_PROFILE=cpu), then Restart & Run all; "
            f'"full" runs for hours.')


def duration_text(seconds):
    """A duration rounded for people: '40 s', '3.5 min', '2.1 h'."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.2g} min" if seconds < 600 else f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.2g} h"


def estimate(seconds_per_unit, units, unit="step", how="", first=None):
    """The line printed before a long run: 'estimate: about 7 min for 2,000 steps at 0.21 s/step'.

    `first`: the time of the first unit when it differs (it builds the graph), counted once.
    """
    total = float(seconds_per_unit) * units if first is None else first + seconds_per_unit * (units - 1)
    try:
        name = profile_name()
    except ValueError:
        name = None
    notes = "; ".join(n for n in (name and f"profile {name}", how) if n)
    line = (f"estimate: about {duration_text(total)} for {units:,} {unit}{'' if units == 1 else 's'} "
            f"at {seconds_per_unit:.3g} s/{unit}"
            + ("" if first is None else f" after a first {unit} of {duration_text(first)}")
            + (f" ({notes})" if notes else ""))
    if name and name != "full" and total > LONG_RUN_MINUTES * 60:
        line += (f"; more than the ~{LONG_RUN_MINUTES} min a cell of profile {name} is sized for: "
                 f"this machine is slower than planned (interrupt and choose a smaller profile "
                 f"to stay within it)")
    return line


def print_estimate_once(total, unit="step", after=3):
    """A callback(step, history, ...) printing estimate() once, timed on steps 2..after; notebook 01.

    For gatys.stylize(callback=..., callback_every=...): history["seconds"] holds each step's
    time; the first step, which builds the graph, is left out of the rate when there are others.
    """
    printed = []

    def callback(step, history, *_):
        if printed or step < min(after, total):
            return
        times = history["seconds"][:step]
        printed.append(step)
        if len(times) > 1:
            print(estimate(sum(times[1:]) / (len(times) - 1), total, unit, first=times[0],
                           how=f"measured on {unit}s 2-{step}"))
        else:
            print(estimate(times[0], total, unit, how=f"measured on {unit} 1"))

    return callback
