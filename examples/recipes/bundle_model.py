"""Make a trained model a bundled one: the weights as they are, with the metadata a bundled
model carries (its default decoding, its postprocessing, a description), written to
``htrkit/models/NAME.safetensors``, and its ONNX form beside it (what ``backend="auto"``
runs).

    python examples/recipes/bundle_model.py runs/accurate/best.safetensors accurate \\
        --description "htrkit's accurate line model: ... (see htrkit/models/accurate.md)"

The decoding is the bundled default's (the character LM, ``kenlm`` at ``level=char``, in
the language ``--lang`` chooses) and the postprocessing its ``capitals``; both can be
changed with ``--decoding`` and ``--postprocess``. An existing bundled file is replaced
only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="the trained model file")
    parser.add_argument("name", help="the bundled name (htrkit/models/NAME.safetensors)")
    parser.add_argument("--description", required=True)
    parser.add_argument(
        "--decoding", default='{"decoder": "kenlm", "options": {"level": "char"}}',
        help="the model's own decoding, as JSON",
    )  # fmt: skip
    parser.add_argument("--postprocess", nargs="*", default=["capitals"])
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    from htrkit.cache import sha256
    from htrkit.onnxmodel import export
    from htrkit.recognizer import Recognizer

    target = ROOT / "htrkit" / "models" / f"{args.name}.safetensors"
    if target.exists() and not args.overwrite:
        sys.exit(f"{target} exists; pass --overwrite to replace it")
    if not args.model.is_file():
        sys.exit(f"{args.model}: no such model file")
    recognizer = Recognizer.load(args.model)
    metadata = {
        **recognizer.config.metadata,
        "description": args.description,
        "decoding": json.loads(args.decoding),
        "postprocessors": list(args.postprocess),
    }
    bundled = Recognizer(recognizer.module, replace(recognizer.config, metadata=metadata))
    bundled.save(target)
    onnx = export(bundled, target.with_suffix(".onnx"), source_sha256=sha256(target))
    print(f"wrote {target} and {onnx}")


if __name__ == "__main__":
    main()
