#!/bin/bash
# tests/mpi/slurm-cluster.sh: the hybrid layer under a real Slurm, on one machine.
#
#   slurm-cluster.sh BUILDDIR SRCDIR     (tests/mpi/slurm.mpi calls it)
#
# Starts a one-node Slurm cluster of its own (Debian's slurm-wlm and munge: munged,
# slurmctld and slurmd with their config, state, sockets and logs under one temporary
# folder, on ports of their own), submits examples/mpi/jacobi.sbatch with `sbatch --wait`
# and checks:
#   - the team size follows --cpus-per-task (the team created before MPI_Init, and the
#     default size fmp_mpi_init sets, --fork-per-region), and forkmp-info run in such a
#     job gives SLURM_CPUS_PER_TASK as its reason;
#   - ranks started by mpirun inside the job (OMPI_MCA_ras_slurm_use_entire_allocation=1)
#     and by `srun --mpi=pmix` both work (the srun part is skipped, saying so, when Slurm
#     has no pmix plugin);
#   - the job's exit status reaches sbatch (a failing job gives a non-zero status);
#   - a member left behind by a job (tests/mpi/t_linger) is gone when the job ends.
# Everything is stopped and removed at the end, also on failure or interruption.
# Installs slurm-wlm and munge with apt-get when they are missing; exit 77 (skip) only
# when they cannot be installed (or this is not root).  Prints "N passed, N failed".
set -u
B=${1:?usage: slurm-cluster.sh BUILDDIR SRCDIR}
S=${2:?usage: slurm-cluster.sh BUILDDIR SRCDIR}
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }

# --------------------------------------------------------------------------- packages
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the one-machine Slurm cluster needs root (slurmd, munged)"
    exit 77
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge (apt-get)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Use-Pty=0 slurm-wlm munge; } </dev/null >/tmp/fmp-slurm-apt.$$.log 2>&1; then
        tail -n 20 /tmp/fmp-slurm-apt.$$.log
        rm -f /tmp/fmp-slurm-apt.$$.log
        echo "SKIP: slurm-wlm and munge cannot be installed here"
        exit 77
    fi
    rm -f /tmp/fmp-slurm-apt.$$.log
fi

# --------------------------------------------------------------------------- cluster
work=$(mktemp -d /tmp/fmp-slurm.XXXXXX) || exit 1
chmod 755 "$work" # munge's socket folder (and those above it) must be world-executable
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/jobs"
chmod 755 "$work/munge" "$work/jobs"
host=$(hostname -s)
cpus=$(nproc)

stop() {
    for d in slurmd slurmctld munged; do
        pid=$(cat "$work/$d.pid" 2>/dev/null)
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    done
    for d in slurmd slurmctld munged; do
        pid=$(cat "$work/$d.pid" 2>/dev/null)
        [ -n "$pid" ] || continue
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 1' HUP INT TERM

# two free TCP ports for slurmctld and slurmd
ports=$(python3 - <<'EOF_PY' 2>/dev/null
import socket
s = []
for _ in range(2):
    k = socket.socket(); k.bind(("127.0.0.1", 0)); s.append(k)
print(" ".join(str(k.getsockname()[1]) for k in s))
EOF_PY
)
[ -n "$ports" ] || ports="$((20000 + $$ % 20000)) $((20001 + $$ % 20000))"
set -- $ports
ctld_port=$1 slurmd_port=$2
set -- "$B" "$S"

if [ -d /sys/fs/cgroup/freezer ]; then proctrack=proctrack/cgroup; else proctrack=proctrack/pgid; fi
cat >"$work/slurm.conf" <<EOF_CONF
ClusterName=fmptest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket.2
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=$proctrack
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MinJobAge=4
ReturnToService=2
KillWait=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF_CONF
if [ $proctrack = proctrack/cgroup ]; then
    cat >"$work/cgroup.conf" <<EOF_CONF
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
EOF_CONF
fi
export SLURM_CONF=$work/slurm.conf
echo "cluster: $host, $cpus cpus, $proctrack, ports $ctld_port/$slurmd_port, in $work"

dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge/munge.key"
if ! munged --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket.2" \
    --pid-file="$work/munged.pid" --log-file="$work/log/munged.log" \
    --seed-file="$work/munge/munged.seed" --force 2>"$work/log/munged.err"; then
    cat "$work/log/munged.err" "$work/log/munged.log" 2>/dev/null
    bad "munged did not start"
    echo "$pass passed, $fail failed, $skipped skipped"
    exit 1
fi
slurmctld -f "$SLURM_CONF" 2>>"$work/log/slurmctld.err"
slurmd -f "$SLURM_CONF" 2>>"$work/log/slurmd.err"

up=no
for _ in $(seq 1 100); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
    case "$state" in
    idle*) up=yes; break ;;
    down* | drain*) scontrol update nodename="$host" state=resume 2>/dev/null ;;
    esac
    sleep 0.2
done
if [ $up != yes ]; then
    bad "the cluster did not come up (node state: ${state:-none})"
    tail -n 20 "$work"/log/*
    echo "$pass passed, $fail failed, $skipped skipped"
    exit 1
fi
ok "slurmctld and slurmd up, node $host idle"

# --------------------------------------------------------------------------- jobs
jacobi=$B/examples/mpi/jacobi
sbatch_script=$S/examples/mpi/jacobi.sbatch

# job NAME SBATCH-OPTIONS... -- ENV...: sbatch --wait; output in $work/jobs/NAME.out,
# sbatch's status in $rc
job() {
    n=$1
    shift
    opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    envs=ALL
    for e in "$@"; do envs="$envs,$e"; done
    t0=$(date +%s)
    timeout 120 sbatch --wait --quiet --chdir="$work/jobs" --output="$work/jobs/$n.out" \
        --job-name="$n" --export="$envs" "${opts[@]}"
    rc=$?
    echo "job $n: sbatch --wait exited $rc after $(($(date +%s) - t0)) s"
}

showjob() {
    echo "--- output of job $1"
    tail -n 30 "$work/jobs/$1.out" 2>/dev/null
    echo "--- slurmd log"
    tail -n 15 "$work/log/slurmd.log" 2>/dev/null
}

# the team size follows --cpus-per-task: jacobi under mpirun, one task (teams of 1 under
# srun below)
c=$((cpus >= 2 ? 2 : 1))
job "mpirun-c$c" --ntasks=1 --cpus-per-task=$c "$sbatch_script" -- LAUNCHER=mpirun \
    "JACOBI=$jacobi" "JACOBI_ARGS=120 40"
if [ $rc -eq 0 ] && grep -q "rank 0 on .*: a team of $c created before MPI_Init" \
    "$work/jobs/mpirun-c$c.out" && grep -q '^checksum = ' "$work/jobs/mpirun-c$c.out"; then
    ok "mpirun in a job with --cpus-per-task=$c: a team of $c (created before MPI_Init)"
else
    bad "mpirun in a job with --cpus-per-task=$c (sbatch status $rc)"
    showjob "mpirun-c$c"
fi
job mpirun-fork --ntasks=1 --cpus-per-task=$c "$sbatch_script" -- LAUNCHER=mpirun \
    "JACOBI=$jacobi" "JACOBI_ARGS=120 40 --fork-per-region"
if [ $rc -eq 0 ] && grep -q "rank 0 on .*: a team of $c, forked at every sweep" \
    "$work/jobs/mpirun-fork.out"; then
    ok "fmp_mpi_init sizes the teams from SLURM_CPUS_PER_TASK ($c)"
else
    bad "fmp_mpi_init under Slurm with --cpus-per-task=$c (sbatch status $rc)"
    showjob mpirun-fork
fi

# forkmp-info in a job with --cpus-per-task: SLURM_CPUS_PER_TASK is the reason for the team
job "info-c$c" --ntasks=1 --cpus-per-task=$c "$sbatch_script" -- LAUNCHER=mpirun \
    "JACOBI=$B/tools/forkmp-info" "JACOBI_ARGS=--env"
if [ $rc -eq 0 ] && grep -q "^rank 0: cpus=.* team=$c from=SLURM_CPUS_PER_TASK " \
    "$work/jobs/info-c$c.out"; then
    ok "forkmp-info in a job with --cpus-per-task=$c: team=$c from=SLURM_CPUS_PER_TASK"
else
    bad "forkmp-info in a job with --cpus-per-task=$c (sbatch status $rc)"
    showjob "info-c$c"
fi

# ranks started by srun --mpi=pmix
if srun --mpi=list 2>&1 | grep -q pmix; then
    job srun-pmix --ntasks=2 --cpus-per-task=1 "$sbatch_script" -- LAUNCHER=srun \
        "JACOBI=$jacobi" "JACOBI_ARGS=120 40"
    out=$work/jobs/srun-pmix.out
    if [ $rc -eq 0 ] && grep -q '^jacobi: grid 120 x 120 on 2 ranks' "$out" &&
        grep -q "rank 1 on .*: a team of 1 created before MPI_Init" "$out"; then
        ok "srun --mpi=pmix: 2 ranks, teams of 1 (--cpus-per-task=1)"
    else
        bad "srun --mpi=pmix (sbatch status $rc)"
        showjob srun-pmix
    fi
else
    skip "srun --mpi=pmix: this Slurm has no pmix plugin (srun --mpi=list: $(srun --mpi=list 2>&1 | tr '\n' ' '))"
fi

# the job's exit status reaches sbatch
job failing --ntasks=1 "$sbatch_script" -- LAUNCHER=mpirun "JACOBI=$jacobi" "JACOBI_ARGS=1 1"
if [ $rc -ne 0 ]; then
    ok "a failing job: sbatch --wait exits $rc"
else
    bad "a failing job: sbatch --wait exits 0"
    showjob failing
fi

# a member left behind is gone when the job ends
cat >"$work/jobs/linger.sh" <<EOF_JOB
#!/bin/bash
"$B/tests/mpi/t_linger" "$work/jobs/linger.pids" &
for i in \$(seq 1 50); do [ -s "$work/jobs/linger.pids" ] && break; sleep 0.1; done
echo "linger.sh: left \$(tr '\n' ' ' <"$work/jobs/linger.pids") running"
exit 0
EOF_JOB
chmod +x "$work/jobs/linger.sh"
job linger --ntasks=1 --cpus-per-task=1 "$work/jobs/linger.sh" --
pids=$(cat "$work/jobs/linger.pids" 2>/dev/null)
if [ $rc -ne 0 ] || [ -z "$pids" ]; then
    bad "the lingering job did not run (sbatch status $rc)"
    showjob linger
else
    left=
    for _ in $(seq 1 100); do
        left=
        for p in $pids; do
            [ -d "/proc/$p" ] && [ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status")" != Z ] &&
                left="$left $p"
        done
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then
        ok "the master and member a job left behind ($(echo $pids)) are gone when it ends"
    else
        bad "processes left behind by the job are still alive:$left"
        ps -o pid,ppid,stat,etime,args -p "$(echo $left | tr ' ' ',')"
        kill -KILL $left 2>/dev/null
    fi
fi

echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
