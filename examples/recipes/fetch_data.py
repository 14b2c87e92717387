"""Fetch the six CC BY 4.0 repositories of French handwriting that the default model's
recipe (``default-line.toml``) trains on, at the commits it was trained on.

    python examples/recipes/fetch_data.py            # into ../data beside the repository
    python examples/recipes/fetch_data.py --out DIR  # elsewhere (then edit the recipe paths)

Each repository is cloned with git and checked out at its commit; one already there is
left alone. About 1 GB in all. The data is not htrkit's: each repository's ``LICENSE`` and
``htr-united.yml`` give its credits, which the model card (htrkit/models/default.md)
repeats.

Where a machine cannot reach GitHub but has a bare mirror of a repository, write its
files out with ``shared/tools/extract_snapshot.py GIT_DIR OUT_DIR`` instead (this is how
the model was trained).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: (GitHub repository, commit, what it is)
REPOSITORIES = (
    ("HTR-United/lectaurep-repertoires", "3d1c86cf5389265a1ce8b620301d36b4709eb435",
     "notarial registers 1830-1939 (LECTAUREP)"),
    ("HTR-United/timeuscorpus", "df8ee63837dabe79c511e8aa748f465da5e2d5e5",
     "Paris textile trade court registers, 1858 and 1878 (TIME US)"),
    ("HTR-United/CREMMA-MSS-18", "e4a89141807513b61c1f750d83da820314c777d8",
     "18th-century manuscripts and letters"),
    ("HTR-United/CREMMA-MSS-19", "d8f466de72561cd989f957d75a6743c5d8f0a262",
     "19th-century letters, poems and drafts"),
    ("HTR-United/CREMMA-MSS-20", "f737d0cb53d28edf1573c5956460bfdd58be6267",
     "20th-century letters and drafts"),
    ("alix-tz/peraire-ground-truth", "61b321ed05fc1d40e6c6e4351fd2162fd5bff478",
     "one hand, 1928-1990 (Peraire)"),
)  # fmt: skip


def fetch(repository: str, commit: str, out: Path) -> None:
    dest = out / repository.split("/")[1]
    if dest.exists():
        print(f"{dest}: already there, left alone")
        return
    url = f"https://github.com/{repository}.git"
    print(f"{url} -> {dest}")
    subprocess.run(["git", "clone", "--quiet", url, str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", commit], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT.parent / "data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for repository, commit, what in REPOSITORIES:
        try:
            fetch(repository, commit, args.out)
        except (OSError, subprocess.CalledProcessError) as exc:
            sys.exit(f"fetch_data: {repository} ({what}): {exc}")


if __name__ == "__main__":
    main()
