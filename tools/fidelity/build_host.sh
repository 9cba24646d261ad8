#!/usr/bin/env bash
# build_host.sh KIT DEST — a real AUTOMATIC1111 v1.10.1 on the CPU with a tiny random checkpoint, for tools/fidelity.
#
# KIT is the host kit (make_tiny_checkpoint.py and tiny-sd15.template.yaml); DEST gets the WebUI and DEST/venv.
# Sources are cloned at fixed revisions from GitHub; point SRC_WEBUI, SRC_SD, SRC_SGM, SRC_KDIFF, SRC_ASSETS at
# local clones or mirrors instead. Nothing here is stored in this project. See docs/fidelity.md.
set -euo pipefail
kit=$(cd "$1" && pwd) dest=$2 venv=$2/venv
clone() {  # clone URL REV OUT
  git clone -q --no-checkout "$1" "$3"
  git -C "$3" checkout -q "$2"
}
clone "${SRC_WEBUI:-https://github.com/AUTOMATIC1111/stable-diffusion-webui.git}" v1.10.1 "$dest"
clone "${SRC_SD:-https://github.com/Stability-AI/stablediffusion.git}" cf1d67a6 \
  "$dest/repositories/stable-diffusion-stability-ai"
clone "${SRC_SGM:-https://github.com/Stability-AI/generative-models.git}" 45c443b3 "$dest/repositories/generative-models"
clone "${SRC_KDIFF:-https://github.com/crowsonkb/k-diffusion.git}" ab527a9a "$dest/repositories/k-diffusion"
clone "${SRC_ASSETS:-https://github.com/AUTOMATIC1111/stable-diffusion-webui-assets.git}" 6f7db241 \
  "$dest/repositories/stable-diffusion-webui-assets"
python3 -m venv "$venv"
grep -v -e '^torch$' -e '^setuptools' "$dest/requirements_versions.txt" > "$dest/req.txt"
"$venv/bin/pip" install -q torch==2.14.1 torchvision==0.29.1 -r "$dest/req.txt"
"$venv/bin/pip" install -q "setuptools>=77.0.3,<81"   # the pinned 69.5.1 clashes with torch; >=81 breaks lightning
"$venv/bin/pip" install -q --no-deps openai-clip==1.0.1  # k-diffusion imports `clip` at start
# What the original extension and ours import that the WebUI lacks (their install.py is skipped at start).
"$venv/bin/pip" install -q numexpr av pims imageio-ffmpeg rich numpy==1.26.2
"$venv/bin/python" "$kit/make_tiny_checkpoint.py" "$dest"
echo "WebUI ready: WEBUI_DIR=$dest WEBUI_PYTHON=$venv/bin/python"
