"""PyTorch versions of alembic's preset nets (BOW, CNN, Transformer), exported by PyTorch's own ONNX
exporter: the same-run reference `npm run bench:deploy` times alembic's graphs against
(bench/torch-reference.ts describes the shapes). Usage: torch_reference_export.py NET VOCAB OUT.onnx
"""
import math, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn

net, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)

class Bow(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(vocab, 128, padding_idx=0)
        s.fc = nn.Linear(128, 128)
        s.head = nn.Linear(128, 2)
    def forward(s, ids, mask):
        m = mask.unsqueeze(-1).float()
        bag = (s.emb(ids) * m).sum(1) / m.sum(1).clamp(min=1.0)
        x = torch.relu(s.fc(bag / (1 + bag.abs())))
        return torch.softmax(s.head(x), -1)

class Cnn(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(vocab, 128, padding_idx=0)
        s.widths = [2, 3, 4]
        s.convs = nn.ModuleList([nn.Conv1d(128, 128, k) for k in s.widths])
        s.head = nn.Linear(384, 2)
    def forward(s, ids, mask):
        x = (s.emb(ids) * mask.unsqueeze(-1).float()).transpose(1, 2)
        lengths = mask.sum(1, keepdim=True)
        pooled = []
        for k, conv in zip(s.widths, s.convs):
            w = torch.relu(conv(x)).transpose(1, 2)
            pos = torch.arange(w.shape[1]).unsqueeze(0)
            real = pos < (lengths - k + 1).clamp(min=1)
            pooled.append(w.masked_fill(~real.unsqueeze(-1), float("-inf")).max(1).values)
        return torch.softmax(s.head(torch.cat(pooled, 1)), -1)

class Layer(nn.Module):
    def __init__(s, h, heads, ffn):
        super().__init__()
        s.heads = heads
        s.q, s.k, s.v, s.o = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        s.ln1, s.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        s.up, s.down = nn.Linear(h, ffn), nn.Linear(ffn, h)
    def forward(s, x, bias):
        b, t, h = x.shape
        d = h // s.heads
        split = lambda y: y.view(b, t, s.heads, d).transpose(1, 2)
        q, k, v = split(s.q(x)), split(s.k(x)), split(s.v(x))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, -1)
        ctx = (a @ v).transpose(1, 2).reshape(b, t, h)
        x = s.ln1(x + s.o(ctx))
        return s.ln2(x + s.down(nn.functional.gelu(s.up(x))))

class Transformer(nn.Module):
    def __init__(s, h=256, layers=4, heads=4, ffn=1024, positions=512):
        super().__init__()
        s.word, s.pos, s.segment = nn.Embedding(vocab, h), nn.Embedding(positions, h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList([Layer(h, heads, ffn) for _ in range(layers)])
        s.pooler, s.head = nn.Linear(h, h), nn.Linear(h, 2)
    def forward(s, ids, mask):
        t = ids.shape[1]
        x = s.word(ids) + s.pos(torch.arange(t).unsqueeze(0)) + s.segment(torch.zeros_like(ids))
        x = s.ln(x)
        bias = (1.0 - mask.float()).unsqueeze(1).unsqueeze(1) * -10000.0
        for layer in s.layers:
            x = layer(x, bias)
        return torch.softmax(s.head(torch.tanh(s.pooler(x[:, 0]))), -1)

model = {"bow": Bow, "cnn": Cnn, "transformer": Transformer}[net]().eval()
ids = torch.randint(5, vocab, (2, 64))
mask = torch.ones(2, 64, dtype=torch.long)
axes = {0: "batch", 1: "seq"}
with torch.no_grad():
    torch.onnx.export(model, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                      output_names=["probabilities"], opset_version=17,
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "probabilities": {0: "batch"}})
print("ok")
