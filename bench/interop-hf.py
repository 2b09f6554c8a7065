"""Loads an alembic model directory with Hugging Face transformers and compares its logits with alembic's.

Reads a JSON file written by bench/interop-hf.ts ({dir, texts, input_ids, token_type_ids, logits}) and
prints one JSON line: missing/unexpected keys, max |logit difference|, and how many texts BertTokenizer
splits into alembic's ids.
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

case = json.load(open(sys.argv[1], encoding="utf-8"))
model, info = AutoModelForSequenceClassification.from_pretrained(case["dir"], output_loading_info=True)
model.eval()
tokenizer = AutoTokenizer.from_pretrained(case["dir"])
max_diff = 0.0
same_ids = 0
same_label = 0
with torch.no_grad():
    for i, text in enumerate(case["texts"]):
        ids, types = case["input_ids"][i], case["token_type_ids"][i]
        logits = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])).logits[0]
        max_diff = max(max_diff, (logits - torch.tensor(case["logits"][i])).abs().max().item())
        same_ids += tokenizer(text, truncation=True)["input_ids"] == ids
        same_label += model.config.id2label[int(logits.argmax())] == case["labels"][i]
print(json.dumps({
    "architecture": model.config.architectures,
    "missing": sorted(info["missing_keys"]),
    "unexpected": sorted(info["unexpected_keys"]),
    "max_abs_diff": max_diff,
    "texts": len(case["texts"]),
    "same_ids": same_ids,
    "same_label": same_label,
}))
