"""The engine benchmark's baseline: the same BERT-style classifier as bench/engine.ts, in PyTorch.

Usage: python3 engine_torch.py THREADS STEPS  → prints one JSON line {"ms_per_step": ...}.
Architecture, shapes and optimizer mirror bench/engine.ts exactly (post-LN BERT layers, GELU, AdamW).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, H, L, NH, FFN, B, T = 21128, 256, 4, 4, 1024, 32, 64


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.o = nn.Linear(H, H)
        self.n1 = nn.LayerNorm(H, eps=1e-12)
        self.f1, self.f2 = nn.Linear(H, FFN), nn.Linear(FFN, H)
        self.n2 = nn.LayerNorm(H, eps=1e-12)

    def forward(self, x, bias):
        b, t, h = x.shape
        hd = h // NH
        split = lambda z: z.view(b, t, NH, hd).transpose(1, 2)
        s = split(self.q(x)) @ split(self.k(x)).transpose(-2, -1) * (1 / math.sqrt(hd)) + bias
        p = F.dropout(s.softmax(-1), 0.1, self.training)
        c = (p @ split(self.v(x))).transpose(1, 2).reshape(b, t, h)
        a = self.n1(F.dropout(self.o(c), 0.1, self.training) + x)
        return self.n2(F.dropout(self.f2(F.gelu(self.f1(a))), 0.1, self.training) + a)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(V, H)
        self.pos = nn.Embedding(512, H)
        self.typ = nn.Embedding(2, H)
        self.norm = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList([Layer() for _ in range(L)])
        self.pool = nn.Linear(H, H)
        self.head = nn.Linear(H, 2)

    def forward(self, ids, mask):
        b, t = ids.shape
        x = self.word(ids) + self.pos(torch.arange(t).unsqueeze(0)) + self.typ(torch.zeros(b, t, dtype=torch.long))
        x = F.dropout(self.norm(x), 0.1, self.training)
        bias = (~mask).float().mul(-10000).unsqueeze(1).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, bias)
        return self.head(torch.tanh(self.pool(x[:, 0])))


def main():
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(0, V, (B, T))
    mask = torch.ones(B, T, dtype=torch.bool)
    y = torch.randint(0, 2, (B,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids, mask), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - t0) * 1000 / steps
    print(json.dumps({"ms_per_step": ms, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
