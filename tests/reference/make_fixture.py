#!/usr/bin/python3
"""Writes tests/reference/lstm_reference.txt: the PyTorch reference for the
LyricMind model, read by tests/reference/test_reference.c.

Run with Debian's PyTorch (apt-get install python3-torch), from anywhere:
    /usr/bin/python3 tests/reference/make_fixture.py
Only needed to regenerate the committed fixture; never run by the tests.

The model is the spec's (Embedding -> LSTM -> Dropout(0) -> Linear ->
cross-entropy with ignore_index = pad id 0, mean over non-pad targets) at
small sizes. LyricMind's LSTM has ONE bias vector (PyTorch's bias_ih +
bias_hh); so that gradient clipping and Adam see the same parameters, the
reference keeps the combined bias in bias_ih_l0 and freezes bias_hh_l0 at 0.

Format (plain text): '#' comment lines, then blocks
    <name> <count>
    <count values separated by spaces, printed with %.9g>
Tensors are row-major, named and shaped as in PyTorch's state_dict, with
`lstm.bias` for the single bias.
"""
import os
import sys

import torch
import torch.nn as nn

V, E, H, B, T = 50, 8, 16, 3, 5
PAD = 0
LR, BETAS, EPS = 0.01, (0.9, 0.999), 1e-8
MAX_NORM = 0.05
ADAM_STEPS = 3


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, num_layers=1, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(H, V)
        with torch.no_grad():  # one bias vector: keep the sum in bias_ih
            self.lstm.bias_ih_l0.add_(self.lstm.bias_hh_l0)
            self.lstm.bias_hh_l0.zero_()
        self.lstm.bias_hh_l0.requires_grad_(False)

    def forward(self, x, state):
        out, (h, c) = self.lstm(self.embedding(x), state)
        return self.fc(self.dropout(out)), h, c

    def named_tensors(self):
        """LyricMind's tensors in its buffer order (fc first)."""
        return [
            ("fc.weight", self.fc.weight),
            ("fc.bias", self.fc.bias),
            ("lstm.weight_ih", self.lstm.weight_ih_l0),
            ("lstm.weight_hh", self.lstm.weight_hh_l0),
            ("lstm.bias", self.lstm.bias_ih_l0),
            ("embedding.weight", self.embedding.weight),
        ]


def main():
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    model = Model()
    crit = nn.CrossEntropyLoss(ignore_index=PAD)  # mean over non-pad targets

    inp = torch.randint(0, V, (B, T))
    tgt = torch.randint(1, V, (B, T))
    tgt[0, 1] = PAD  # ignored targets
    tgt[2, 4] = PAD
    inp[1, 2] = PAD  # pad as an input is an ordinary embedding row
    h0 = torch.randn(1, B, H) * 0.5
    c0 = torch.randn(1, B, H) * 0.5

    out = []

    def put(name, t):
        vals = t.detach().reshape(-1).tolist()
        out.append("%s %d\n" % (name, len(vals)))
        out.append(" ".join("%.9g" % v for v in vals) + "\n")

    put("dims", torch.tensor([V, E, H, B, T, PAD]))
    put("adam", torch.tensor([LR, BETAS[0], BETAS[1], EPS, MAX_NORM, ADAM_STEPS],
                             dtype=torch.float64))
    for name, p in model.named_tensors():
        put(name, p)
    put("inputs", inp)
    put("targets", tgt)
    put("h0", h0)
    put("c0", c0)

    # One forward/backward from a zero and from a non-zero initial state.
    for case, state in (("zero", None), ("carry", (h0, c0))):
        model.zero_grad()
        logits, h, c = model(inp, state)
        loss = crit(logits.reshape(-1, V), tgt.reshape(-1))
        loss.backward()
        put(case + ".logits", logits)
        put(case + ".loss", loss.reshape(1))
        put(case + ".hT", h)
        put(case + ".cT", c)
        for name, p in model.named_tensors():
            put(case + ".grad." + name, p.grad)

    # Adam with clipping, the LSTM state carried (detached) between steps.
    params = [p for _, p in model.named_tensors()]
    opt = torch.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS)
    h, c = h0.clone(), c0.clone()
    losses, norms = [], []
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        logits, h, c = model(inp, (h, c))
        h, c = h.detach(), c.detach()
        loss = crit(logits.reshape(-1, V), tgt.reshape(-1))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, MAX_NORM)
        assert norm > MAX_NORM, "clipping must trigger for the test to mean something"
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
    put("adam.loss", torch.tensor(losses, dtype=torch.float64))
    put("adam.norm", torch.tensor(norms, dtype=torch.float64))
    for name, p in model.named_tensors():
        put("adam.param." + name, p)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "lstm_reference.txt")
    with open(path, "w") as f:
        f.write("# LyricMind PyTorch reference (torch %s), made by "
                "tests/reference/make_fixture.py; do not edit\n" % torch.__version__)
        f.writelines(out)
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
