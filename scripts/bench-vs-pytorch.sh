#!/usr/bin/env bash
# LyricMind against PyTorch on this host, in the same run: the spec's model
# (V 50,000, E 64, H 128, dropout 0.3) and optimizer (Adam lr 1e-3, clip 1),
# one thread each, interleaved ROUNDS times so both see the same machine.
#   training:   B=8, T=30 steps on random tokens with carried LSTM state
#   generation: one token at a time, T 0.8 over the full softmax
#   2 ranks:    `lyricmind train` with mpirun -np 2 on the shared corpus
#               (B=8 per rank, T=30, its vocabulary; steps 11-60 timed)
#               against PyTorch DistributedDataParallel, gloo backend, 2
#               processes on this host (file:// rendezvous, no network), the
#               same V, model, optimizer and batch per rank on random tokens
# Training and generation run once per ISA level the host has (avx512, then
# avx2), each side capped to that level: lyricmind with LM_ISA, PyTorch with
# its own cap ATEN_CPU_CAPABILITY (torch 1.13 defaults to avx2 even on an
# AVX-512 host: AVX-512 is opt-in there, pytorch/pytorch#80252) and, for
# PyTorch's process only, OPENBLAS_CORETYPE: Debian's torch does its GEMMs
# (Linear, LSTM) in the system BLAS, OpenBLAS 0.3.21 with DYNAMIC_ARCH, which
# does not know Zen 5 and runs its Haswell (AVX2) kernels there; SkylakeX
# gives it its AVX-512 sgemm on the avx512 rows, Haswell keeps it at AVX2 on
# the avx2 rows of an AVX-512 host. lyricmind's own OpenBLAS calls (the
# LSTM's small GEMMs, a few % of its step) keep OpenBLAS's own choice. The
# 2-rank rows run both at the host's top level.
# Prints one line per measurement (with the level each side ran: PyTorch
# reports its ATen level and OpenBLAS core) and the ratios (lyricmind /
# pytorch) over wall time and, for 1 thread, over CPU time (2 ranks: wall).
# Usage: scripts/bench-vs-pytorch.sh [--install] [ROUNDS] (default 2).
# CORPUS=output dir of `lyricmind preprocess` (default
# /tmp/lyricmind-bench-corpus, made from ../shared/data/lyrics when absent,
# as scripts/bench-train.sh does).
#   --install  first installs Debian's python3-torch (apt-get, as root).
# LM=path/to/lyricmind (default build/lyricmind); PY=python with torch
# (default /usr/bin/python3, where Debian's python3-torch lives).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --install ]; then
  shift
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch
fi
ROUNDS=${1:-2}
LM=${LM:-build/lyricmind}
PY=${PY:-/usr/bin/python3}
[ -x "$LM" ] || { echo "bench-vs-pytorch: $LM not built (scripts/build.sh)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || {
  echo "bench-vs-pytorch: $PY has no torch (run with --install, or set PY)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
WORK=$(mktemp -d /tmp/lyricmind-vs-torch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/torch_bench.py" <<'PY'
"""The spec's model in PyTorch, timed like 'lyricmind bench': one JSON line."""
import json, sys, time
import torch
import torch.nn as nn

what = sys.argv[1]
V, E, H, B, T = 50000, 64, 128, 8, 30
if what == "ddp":  # ddp RANK WORLD INIT_FILE V
    import torch.distributed as dist
    rank, world, V = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
    dist.init_process_group("gloo", init_method="file://" + sys.argv[4],
                            rank=rank, world_size=world)
torch.set_num_threads(1)
torch.manual_seed(1)

class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(H, V)
    def forward(self, x, state):
        y, state = self.lstm(self.embedding(x), state)
        return self.fc(self.drop(y)), state

m = LM()
clock = lambda: (time.perf_counter(), time.process_time())
model = m
if what == "ddp":
    model = torch.nn.parallel.DistributedDataParallel(m)
    torch.manual_seed(100 + rank)  # each rank its own batches
if what in ("train", "ddp"):
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    state = (torch.zeros(1, B, H), torch.zeros(1, B, H))
    steps, warmup = 20, 3
    for s in range(warmup + steps):
        if s == warmup:
            w0, c0 = clock()
        tok = torch.randint(0, V, (B, T + 1))
        logits, state = model(tok[:, :-1], state)
        state = tuple(t.detach() for t in state)
        loss = loss_fn(logits.reshape(-1, V), tok[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    if what == "ddp":
        dist.barrier()
    w1, c1 = clock()
    n = steps * B * T * (world if what == "ddp" else 1)
else:
    m.eval()
    tokens, warmup = 1000, 20
    state = (torch.zeros(1, 1, H), torch.zeros(1, 1, H))
    tok = torch.zeros(1, 1, dtype=torch.long)
    with torch.no_grad():
        for i in range(warmup + tokens):
            if i == warmup:
                w0, c0 = clock()
            logits, state = m(tok, state)
            p = torch.softmax(logits[0, -1] / 0.8, dim=0)
            tok = torch.multinomial(p, 1).view(1, 1)
    w1, c1 = clock()
    n = tokens
if what == "ddp" and rank != 0:
    sys.exit(0)
def blas_core():  # the OpenBLAS core this process runs, if torch's BLAS is OpenBLAS
    import ctypes
    for lib in sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l}):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_char_p
        return f().decode()
    return "not-openblas"
aten = [l.split(":")[-1].strip() for l in torch.__config__.show().splitlines()
        if "CPU capability" in l]
print(json.dumps({"bench": what, "torch": torch.__version__,
                  "aten_isa": aten[0] if aten else "?", "blas_core": blas_core(),
                  "tokens_per_s": n / (w1 - w0), "cpu_tokens_per_s": n / (c1 - c0)}))
PY

torch_caps() { # $1 = ISA level: PyTorch's own caps for it (see the top)
  case $1 in
    avx512) echo ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=SkylakeX ;;
    avx2) echo ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell ;;
    *) echo ATEN_CPU_CAPABILITY=default ;;
  esac
}
lm_row() { # $1 = train|generate, $2 = level: tokens/s over wall and CPU time
  LM_ISA=$2 "$LM" bench "$1" --threads 1 --no-roofline | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
cpu = 1e3 / d["cpu_ms_per_token"] if "cpu_ms_per_token" in d else \
      d["batch"] * d["seq_len"] * 1e3 / d["cpu_ms_per_step"]
print(d["tokens_per_s"], cpu, d["isa"])'
}
ddp_row() { # $1 = V: tokens/s of 2 DDP ranks (rank 0 prints, after a barrier)
  local init="$WORK/ddp.$RANDOM" pid
  env $(torch_caps "$TOP") "$PY" "$WORK/torch_bench.py" ddp 1 2 "$init" "$1" >/dev/null & pid=$!
  env $(torch_caps "$TOP") "$PY" "$WORK/torch_bench.py" ddp 0 2 "$init" "$1" | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["tokens_per_s"], d["torch"])'
  wait $pid
  rm -f "$init"
}
lm2_row() { # tokens/s of 2 lyricmind ranks over steps 11-60 (as scripts/bench-train.sh)
  local run="$WORK/lm2.$RANDOM"
  mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$LM" train --data "$CORPUS" \
    --run "$run" --batch-size 8 --seq-len 30 --threads 1 --max-steps 60 \
    --eval-every 1000000 --checkpoint-minutes 0 --quiet >/dev/null
  "$PY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
train = [r for r in rows if r["type"] == "train"]
t = {r["step"]: r["step"] * 16 * 30 / r["tokens_per_s"] for r in train}
a, b = 10, train[-1]["step"]
print((b - a) * 16 * 30 / (t[b] - t[a]))' "$run/metrics.jsonl"
  rm -rf "$run"
}

# The levels to compare: the host's top level (lyricmind's isa_host), then avx2
TOP=$("$LM" bench train --steps 1 --warmup 0 --no-roofline | "$PY" -c '
import json, sys
print(json.loads(sys.stdin.read())["isa_host"])')
case $TOP in avx512) LEVELS="avx512 avx2" ;; *) LEVELS=$TOP ;; esac
for level in $LEVELS; do
  for what in train generate; do
    best_lm=0; best_lm_cpu=0; best_pt=0; best_pt_cpu=0
    for ((r = 0; r < ROUNDS; r++)); do
      read -r lm lm_cpu isa < <(lm_row $what "$level")
      read -r pt pt_cpu ver pt_isa < <(env $(torch_caps "$level") "$PY" "$WORK/torch_bench.py" $what | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["tokens_per_s"], d["cpu_tokens_per_s"], d["torch"], d["aten_isa"] + "/" + d["blas_core"])')
      printf '%-8s round %d: lyricmind (%s) %.0f tok/s (CPU %.0f), pytorch %s (%s) %.0f tok/s (CPU %.0f)\n' \
        $what $r "$isa" "$lm" "$lm_cpu" "$ver" "$pt_isa" "$pt" "$pt_cpu"
      best_lm=$("$PY" -c "print(max($best_lm, $lm))"); best_lm_cpu=$("$PY" -c "print(max($best_lm_cpu, $lm_cpu))")
      best_pt=$("$PY" -c "print(max($best_pt, $pt))"); best_pt_cpu=$("$PY" -c "print(max($best_pt_cpu, $pt_cpu))")
    done
    "$PY" -c "print('%-8s %s best: lyricmind/pytorch %.2fx wall, %.2fx CPU' % ('$what', '$level', $best_lm / $best_pt, $best_lm_cpu / $best_pt_cpu))"
  done
done

# 2 ranks x 1 thread against DDP (gloo), at the corpus's vocabulary size
CORPUS=${CORPUS:-/tmp/lyricmind-bench-corpus}
if [ ! -f "$CORPUS/vocab.h5" ] || ! "$LM" inspect "$CORPUS/vocab.h5" >/dev/null 2>&1; then
  "$LM" preprocess --force --out "$CORPUS" ../shared/data/lyrics >/dev/null
fi
V=$("$LM" inspect "$CORPUS/vocab.h5" | sed -n 's/^ *size: *//p')
best_lm=0; best_pt=0
for ((r = 0; r < ROUNDS; r++)); do
  lm=$(lm2_row)
  read -r pt ver < <(ddp_row "$V")
  printf '2 ranks  round %d: lyricmind %.0f tok/s, pytorch %s DDP gloo %.0f tok/s (V %d)\n' $r "$lm" "$ver" "$pt" "$V"
  best_lm=$("$PY" -c "print(max($best_lm, $lm))"); best_pt=$("$PY" -c "print(max($best_pt, $pt))")
done
"$PY" -c "print('2 ranks  best: lyricmind/pytorch DDP %.2fx wall' % ($best_lm / $best_pt))"
