#!/bin/bash
#SBATCH --job-name=lecturekit-grade
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=10G
#SBATCH --time=02:00:00
#SBATCH --output=lecturekit-grade-%A_%a.log
# Grade a course as a Slurm job array: task K grades shard K of the array's size (--shard auto reads
# SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT). More shards: change --array.
#   export GRADE_SEED=$(python3 -c 'import secrets; print(secrets.randbelow(2**31))')   # keep it secret
#   jobid=$(sbatch --parsable slurm-grade-array.sh)
#   sbatch --dependency=afterany:$jobid --wrap "$PYTHON -m lecturekit grade-merge $OUT/shard-*/ --out $OUT/grades.csv"
# COURSE holds solutions/ (and, by default, submissions/, one folder per student); each task writes
# OUT/shard-K/. PYTHON is the Python of an environment where the kit is installed (`make install`, or
# `apptainer exec grader.sif python` with the image of Containerfile).
COURSE="${COURSE:-$HOME/course}"
SUBMISSIONS="${SUBMISSIONS:-$COURSE/submissions}"
OUT="${OUT:-$COURSE/grading}"
PYTHON="${PYTHON:-$COURSE/.venv/bin/python}"
: "${GRADE_SEED:?set GRADE_SEED to the secret seed of this run, the same for every task; sbatch passes your environment on}"
: "${SLURM_ARRAY_TASK_ID:?run this with sbatch (it is a job array)}"

mkdir -p "$OUT/shard-$SLURM_ARRAY_TASK_ID"
status=0
"$PYTHON" -m lecturekit grade "$SUBMISSIONS"/* --solutions "$COURSE/solutions" --shard auto \
    --seed "$GRADE_SEED" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$OUT/shard-$SLURM_ARRAY_TASK_ID/grades.csv" || status=$?
# 1 (files changed during the run) and 3 (some copies could not be graded) wrote this shard's outputs:
# grade-merge reports them. Anything else (2: a usage error, no sandbox) fails the task.
case "$status" in 0|1|3) exit 0 ;; *) exit "$status" ;; esac
