#!/usr/bin/env bash
# LyricMind against PyTorch on this host, in the same run: the spec's model
# (V 50,000, E 64, H 128, dropout 0.3) and optimizer (Adam lr 1e-3, clip 1),
# one thread each, interleaved ROUNDS times so both see the same machine.
#   training:   B=8, T=30 steps on random tokens with carried LSTM state
#   generation: one token at a time, T 0.8 over the full softmax
# Prints one line per measurement and the ratios (lyricmind / pytorch) over
# wall time and over CPU time. Not covered: 2 ranks against DDP.
# Usage: scripts/bench-vs-pytorch.sh [--install] [ROUNDS] (default 2).
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
if what == "train":
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    state = (torch.zeros(1, B, H), torch.zeros(1, B, H))
    steps, warmup = 20, 3
    for s in range(warmup + steps):
        if s == warmup:
            w0, c0 = clock()
        tok = torch.randint(0, V, (B, T + 1))
        logits, state = m(tok[:, :-1], state)
        state = tuple(t.detach() for t in state)
        loss = loss_fn(logits.reshape(-1, V), tok[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    w1, c1 = clock()
    n = steps * B * T
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
print(json.dumps({"bench": what, "torch": torch.__version__,
                  "tokens_per_s": n / (w1 - w0), "cpu_tokens_per_s": n / (c1 - c0)}))
PY

lm_row() { # $1 = train|generate: tokens/s over wall and CPU time
  "$LM" bench "$1" --threads 1 --no-roofline | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
cpu = 1e3 / d["cpu_ms_per_token"] if "cpu_ms_per_token" in d else \
      d["batch"] * d["seq_len"] * 1e3 / d["cpu_ms_per_step"]
print(d["tokens_per_s"], cpu, d["isa"])'
}
for what in train generate; do
  best_lm=0; best_lm_cpu=0; best_pt=0; best_pt_cpu=0
  for ((r = 0; r < ROUNDS; r++)); do
    read -r lm lm_cpu isa < <(lm_row $what)
    read -r pt pt_cpu ver < <("$PY" "$WORK/torch_bench.py" $what | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["tokens_per_s"], d["cpu_tokens_per_s"], d["torch"])')
    printf '%-8s round %d: lyricmind (%s) %.0f tok/s (CPU %.0f), pytorch %s %.0f tok/s (CPU %.0f)\n' \
      $what $r "$isa" "$lm" "$lm_cpu" "$ver" "$pt" "$pt_cpu"
    best_lm=$("$PY" -c "print(max($best_lm, $lm))"); best_lm_cpu=$("$PY" -c "print(max($best_lm_cpu, $lm_cpu))")
    best_pt=$("$PY" -c "print(max($best_pt, $pt))"); best_pt_cpu=$("$PY" -c "print(max($best_pt_cpu, $pt_cpu))")
  done
  "$PY" -c "print('%-8s best: lyricmind/pytorch %.2fx wall, %.2fx CPU' % ('$what', $best_lm / $best_pt, $best_lm_cpu / $best_pt_cpu))"
done
