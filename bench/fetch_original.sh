#!/bin/sh
# Fetch the original Deforum extension at the pinned commit into a scratch folder (default ../scratch/original-deforum)
# with the packages its helpers import that Deforum does not (einops, scikit-image, pkg_resources) in
# <folder>/.bench-deps, for `bench/bench_original.py --original <folder>`. Nothing of it enters this repository.
set -eu
COMMIT=322426851408ebca2cd49492bfeb1ec86e1dc869  # automatic1111-webui HEAD of 2024-03-13, the one we match
DEST=${1:-../scratch/original-deforum}
PYTHON=${PYTHON:-.venv/bin/python}
if [ ! -d "$DEST/scripts/deforum_helpers" ]; then
    git init -q "$DEST"
    git -C "$DEST" fetch -q --depth 1 https://github.com/deforum-art/sd-webui-deforum "$COMMIT"
    git -C "$DEST" checkout -q FETCH_HEAD
fi
"$PYTHON" -m pip install -q --target "$DEST/.bench-deps" einops scikit-image "setuptools<81"
echo "$DEST"
