"""Build the offline training corpus of real photographs from Debian packages (PHOTO_CORPUS.md).

    python scripts/build_photo_corpus.py [--out DIR] [--debs DIR] [--keep-debs] [--force]
                                         [--apt-update | --no-apt-update] [--contact-sheet FILE]

Downloads nine Debian packages with `apt-get download` (about 280 MB; or uses the .deb files in
--debs DIR), takes about 260 photographs out of them and writes them, with manifest.json,
manifest.tsv, ATTRIBUTION.md and the packages' copyright files, into the project's cache
(`~/.cache/albumlib/photo_corpus`, ALBUM_CACHE_DIR moves it). A complete corpus is left as it is.
"""

import argparse
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from albumlib.style import corpus_manifest, corpus_sources, photo_corpus  # noqa: E402


def parse_args(argv=None):
    """The command line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None,
                   help=f"corpus folder (default: {corpus_manifest.default_folder()})")
    p.add_argument("--debs", type=Path, default=None,
                   help="folder of .deb files you already have (used as they are, never deleted; "
                        "missing ones are downloaded into it)")
    p.add_argument("--keep-debs", action="store_true",
                   help="keep the downloaded .deb files in the cache after the build")
    p.add_argument("--force", action="store_true", help="rebuild even if the corpus is complete")
    update = p.add_mutually_exclusive_group()
    update.add_argument("--apt-update", dest="apt_update", action="store_true", default=None,
                        help="run `apt-get update` when apt cannot find a package "
                             "(default: only as root)")
    update.add_argument("--no-apt-update", dest="apt_update", action="store_false",
                        help="never run `apt-get update`")
    p.add_argument("--contact-sheet", type=Path, default=None, metavar="FILE",
                   help="also write a contact sheet of all photos (PNG or JPEG) to FILE")
    return p.parse_args(argv)


def print_summary(folder):
    """Print the photos per package, the total and its size."""
    counts = corpus_manifest.summary(folder)
    width = max(len(name) for name in counts)
    total, total_bytes = 0, 0
    print(f"\nphoto corpus: {folder}")
    for name, (n, size) in counts.items():
        print(f"  {name:<{width}}  {n:4d} photos  {size / 1e6:6.1f} MB")
        total, total_bytes = total + n, total_bytes + size
    print(f"  {'total':<{width}}  {total:4d} photos  {total_bytes / 1e6:6.1f} MB")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one line, without the source location."""
    print(f"warning: {message}", file=file or sys.stderr)


def main(argv=None):
    """Build the corpus, print a summary; return the exit status."""
    args = parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", corpus_sources.CorpusWarning)
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args):
    """The body of main, with warnings shown as one line each."""
    try:
        folder = photo_corpus.build_corpus(out=args.out, debs=args.debs,
                                           keep_debs=args.keep_debs, force=args.force,
                                           apt_update=args.apt_update)
        print_summary(folder)
        if args.contact_sheet:
            sheet = photo_corpus.contact_sheet(folder, args.contact_sheet)
            print(f"contact sheet: {sheet}")
    except KeyboardInterrupt:
        print("interrupted: nothing was written to the corpus folder", file=sys.stderr)
        return 130
    except (corpus_sources.CorpusError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
