"""``python -m odse_tutorial.simulation OUT_DIR``: regenerate the bundled dataset."""

import argparse
import logging


def _main(argv: list[str] | None = None) -> None:
    """Parse the command line and write the dataset into ``OUT_DIR``."""
    from odse_tutorial.simulation import generate_dataset

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", help="folder to create")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate_dataset(args.out_dir)


if __name__ == "__main__":
    _main()
