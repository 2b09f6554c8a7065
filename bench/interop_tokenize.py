"""Tokeniser reference for bench/interop.ts (run by it; needs transformers and tokenizers).

Builds an uncased and a cased WordPiece vocabulary from the lines bench/interop.ts wrote (frequent words,
every character alone and as a "##" continuation, common suffixes, and one duplicated line, which must keep
its last id), then tokenises every line with BertTokenizerFast (no [CLS]/[SEP]) and writes the ids.

usage: interop_tokenize.py LINES_JSON OUT_DIR
"""

import collections
import json
import os
import re
import sys

from transformers import BertTokenizerFast

lines = json.load(open(sys.argv[1], encoding="utf-8"))
out = sys.argv[2]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SUFFIXES = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##tion", "##ment", "##ness", "##able"]


def vocabulary(cased):
    words = collections.Counter()
    chars = set()
    for line in lines:
        text = line if cased else line.lower()
        words.update(re.findall(r"\w+", text))
        chars.update(text)
    chars = sorted(c for c in chars if not c.isspace())
    tokens = list(SPECIALS)
    seen = set(tokens)
    for t in [w for w, _ in words.most_common(6000)] + chars + ["##" + c for c in chars] + SUFFIXES:
        if t not in seen:
            seen.add(t)
            tokens.append(t)
    tokens.append("the")  # a duplicated line: the last id wins
    return tokens


result = {}
for name, cased in (("uncased", False), ("cased", True)):
    tokens = vocabulary(cased)
    folder = os.path.join(out, f"tokenizer-{name}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": not cased}, f)
    # A checkpoint directory, loaded the way users load one (transformers 5 ignores a bare vocab_file).
    tok = BertTokenizerFast.from_pretrained(folder)
    assert len(tok) == len(set(tokens)), f"{len(tok)} tokens loaded from {len(set(tokens))}"
    ids = tok(lines, add_special_tokens=False)["input_ids"]
    result[name] = {"vocab": path, "ids": ids}
json.dump(result, open(os.path.join(out, "hf-ids.json"), "w"))
