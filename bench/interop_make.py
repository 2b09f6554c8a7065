"""Reference checkpoints for bench/interop.ts (run by it; needs torch, transformers, safetensors, numpy).

Makes a random-initialised BERT and ERNIE (use_task_id) with transformers, re-randomises every weight
(LayerNorm included, so a swapped gamma/beta or a missed transpose shows), and saves each in the layouts
checkpoints ship in: safetensors (save_pretrained), pytorch_model.bin (torch.save of the state dict, Linear
weights stored as transposed views), half precision .bin, sharded safetensors and sharded .bin with their
index files, and PaddlePaddle's model_state.pdparams (pickle protocol 4 of name -> numpy array with
PaddleNLP's names and [in, out] Linear weights, plus the nested model_config.json, which does not state
the LayerNorm epsilon). Writes reference.json per directory: inputs and transformers' eager last hidden state.

usage: interop_make.py OUT_DIR
"""

import json
import os
import pickle
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel, ErnieConfig, ErnieModel

OUT = sys.argv[1]
VOCAB = 200
torch.manual_seed(0)

COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    max_position_embeddings=64,
    hidden_act="gelu",
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.3)
    model.eval()
    return model


def inputs(ernie):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, VOCAB, (2, 16), generator=g)
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 11:] = 0
    ids[1, 11:] = 0
    types = torch.zeros(2, 16, dtype=torch.long)
    types[:, 8:] = 1
    types[1, 11:] = 0
    return ids, mask, types


def reference(model, ernie):
    ids, mask, types = inputs(ernie)
    kwargs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    if ernie:
        kwargs["task_type_ids"] = torch.zeros_like(ids)
    with torch.no_grad():
        hidden = model(**kwargs).last_hidden_state
    return {
        "ids": ids.tolist(),
        "mask": mask.tolist(),
        "types": types.tolist(),
        "hidden": hidden.flatten().tolist(),
        "shape": list(hidden.shape),
    }


def write_dir(name, ref, config, vocab):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f)
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f)
    return d


def shards(state):
    names = list(state)
    half = len(names) // 2
    return [{n: state[n] for n in names[:half]}, {n: state[n] for n in names[half:]}]


def write_index(d, file, parts, ext):
    weight_map = {}
    for i, part in enumerate(parts):
        for n in part:
            weight_map[n] = f"model-0000{i + 1}-of-00002.{ext}"
    with open(os.path.join(d, file), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    return [weight_map[next(iter(p))] for p in parts]


PADDLE_PARTS = {
    "attention.self.query": "self_attn.q_proj",
    "attention.self.key": "self_attn.k_proj",
    "attention.self.value": "self_attn.v_proj",
    "attention.output.dense": "self_attn.out_proj",
    "attention.output.LayerNorm": "norm1",
    "output.LayerNorm": "norm2",
    "intermediate.dense": "linear1",
    "output.dense": "linear2",
}


def paddle_name(name):
    """PaddleNLP ErnieModel names; the second value says the tensor is a Linear weight (stored [in, out])."""
    linear = name.endswith(".weight") and any(k in name for k in ("query", "key", "value", "dense"))
    parts = name.split(".")
    if parts[0] == "encoder":
        i = parts[2]
        sub = ".".join(parts[3:-1])
        return f"ernie.encoder.layers.{i}.{PADDLE_PARTS[sub]}.{parts[-1]}", linear
    return "ernie." + name.replace("embeddings.LayerNorm", "embeddings.layer_norm"), linear


def main():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"tok{i}" for i in range(5, VOCAB)]
    made = []
    for kind in ("bert", "ernie"):
        ernie = kind == "ernie"
        if ernie:
            cfg = ErnieConfig(**COMMON, type_vocab_size=4, use_task_id=True, task_type_vocab_size=3, layer_norm_eps=1e-5)
            model = randomise(ErnieModel(cfg))
        else:
            cfg = BertConfig(**COMMON, type_vocab_size=2)
            model = randomise(BertModel(cfg))
        ref = reference(model, ernie)
        config = json.loads(cfg.to_json_string())
        state = {k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("position_ids")}

        d = write_dir(f"{kind}-safetensors", ref, None, vocab)
        model.save_pretrained(d)
        made.append(d)

        d = write_dir(f"{kind}-bin", ref, config, vocab)
        # Linear weights as transposed views (non-contiguous), as a model trained with tied or transposed
        # parameters can store them.
        views = {k: (v.t().contiguous().t() if v.dim() == 2 and "embeddings" not in k else v) for k, v in state.items()}
        torch.save(views, os.path.join(d, "pytorch_model.bin"))
        made.append(d)

        # Half precision: the reference is the same model with its weights rounded to float16.
        half = {k: v.half() for k, v in state.items()}
        rounded = randomise(ErnieModel(cfg) if ernie else BertModel(cfg))
        rounded.load_state_dict({k: v.float() for k, v in half.items()}, strict=False)
        d = write_dir(f"{kind}-bin-f16", reference(rounded, ernie), config, vocab)
        torch.save(half, os.path.join(d, "pytorch_model.bin"))
        made.append(d)

        d = write_dir(f"{kind}-sharded-safetensors", ref, config, vocab)
        parts = shards(state)
        for part, file in zip(parts, write_index(d, "model.safetensors.index.json", parts, "safetensors")):
            save_file(part, os.path.join(d, file), metadata={"format": "pt"})
        made.append(d)

        d = write_dir(f"{kind}-sharded-bin", ref, config, vocab)
        for part, file in zip(parts, write_index(d, "pytorch_model.bin.index.json", parts, "bin")):
            torch.save(part, os.path.join(d, file))
        made.append(d)

        if ernie:
            d = write_dir("ernie-pdparams", ref, None, vocab)
            arrays = {}
            structured = {}
            for i, (k, v) in enumerate(state.items()):
                name, linear = paddle_name(k)
                a = v.numpy()
                arrays[name] = np.ascontiguousarray(a.T) if linear else a
                structured[name] = f"param_{i}.w_0"
            arrays["StructuredToParameterName@@"] = structured
            with open(os.path.join(d, "model_state.pdparams"), "wb") as f:
                pickle.dump(arrays, f, protocol=4)
            paddle_args = {k: config[k] for k in COMMON}
            paddle_args.update(type_vocab_size=4, use_task_id=True, task_type_vocab_size=3, pad_token_id=0)
            with open(os.path.join(d, "model_config.json"), "w") as f:
                json.dump({"init_class": "ErnieModel", "init_args": [paddle_args]}, f)
            with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
                json.dump({"do_lower_case": True, "tokenizer_class": "ErnieTokenizer"}, f)
            made.append(d)
    print(json.dumps(made))


main()
