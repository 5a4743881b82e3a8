#!/usr/bin/env python3
"""lokal convert against llama.cpp's convert_hf_to_gguf.py on tiny random Hugging Face models.

For each architecture lokal converts, makes a tiny random-weight model folder with transformers
(safetensors weights, a tokenizer the reference converter accepts), converts it with both
converters (f32 and f16), compares the GGUFs with compare-gguf.py and runs both through lokal
(`lokal logits`, `lokal embed` for BERT) to check that they give the same numbers.

A developer script (CI has no llama.cpp):
  scripts/compare-hf-convert.py --llama-cpp /tmp/llama.cpp --lokal build/lokal \
      [--work /tmp/hfref] [--arch llama qwen2 ...] [--outtype f32 f16]

Tokenizers: the SentencePiece families (llama, mistral, gemma2, gemma3, phi3) get a 400-piece
model trained on a few lines of ../shared/testdata/text. Qwen2/Qwen3 get the real Qwen2 BPE
vocabulary rebuilt as tokenizer.json from ../shared/testdata/tokenizer/ggml-vocab-qwen2.gguf
(convert_hf_to_gguf.py names a BPE pre-tokenizer only from the hash of a known real tokenizer's
output, so a freshly trained one is refused). BERT gets the bert-bge WordPiece vocabulary the
same way.

Result (llama.cpp of 2026-10-01, transformers 5.25): every architecture, f32 and f16: tensors
bit-equal, metadata equal but for one key named in LEGITIMATE, logits of both files equal
(max diff 0, by token ids and by text).
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTDATA = Path(os.environ.get("LOKAL_TESTDATA", HERE.parent.parent / "shared" / "testdata"))
ARCHS = ["llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "bert"]
SPM_ARCHS = {"llama", "mistral", "gemma2", "gemma3", "phi3"}
TOKENS = "1 17 42 99 7 250 3 64 128 5 300 11"
TEXT = "The old prince was angry, and Natasha laughed."
# Differences we keep, with why (see the report in the summary).
LEGITIMATE = {
    # Our SentencePiece folders have no tokenizer.json; llama.cpp's converter looks special token
    # texts up only among tokenizer.json's added tokens, we also in the pieces (unk is piece 0,
    # which is also what both runtimes assume for SentencePiece when the key is absent).
    "tokenizer.ggml.unknown_token_id":
        "unk found in tokenizer.model's pieces (llama.cpp reads only tokenizer.json)",
}


def corpus_lines(n=200):
    text = (TESTDATA / "text" / "war-and-peace-200k.txt").read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip()][:n]


def train_spm(out_dir: Path, user_symbols=()):
    import sentencepiece as spm
    corpus = out_dir / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines()), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(out_dir / "tokenizer"), vocab_size=400,
        model_type="bpe", byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1,
        eos_id=2, pad_id=-1, user_defined_symbols=list(user_symbols), minloglevel=2)
    corpus.unlink()
    (out_dir / "tokenizer.vocab").unlink()


def gguf_vocab(name):
    from gguf import GGUFReader
    r = GGUFReader(str(TESTDATA / "tokenizer" / f"ggml-vocab-{name}.gguf"))

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0])
             for i in r.fields["tokenizer.ggml.token_type"].data]
    merges = strings("tokenizer.ggml.merges") if "tokenizer.ggml.merges" in r.fields else []
    return strings("tokenizer.ggml.tokens"), types, merges


def qwen2_tokenizer(out_dir: Path):
    """The Qwen2 byte-level BPE tokenizer.json, rebuilt from llama.cpp's vocab GGUF."""
    tokens, types, merges = gguf_vocab("qwen2")
    regex = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
             "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    normal = {t: i for i, t in enumerate(tokens) if types[i] == 1}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(tokens) if types[i] != 1]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
             "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                           "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": normal, "merges": [m.split(" ", 1) for m in merges]},
    }
    (out_dir / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    cfg = {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
           "pad_token": "<|endoftext|>", "unk_token": None, "add_bos_token": False,
           "model_max_length": 32768,
           "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
                            "{{ m['content'] }}<|im_end|>\n{% endfor %}"
                            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return len(tokens)


def bert_tokenizer(out_dir: Path):
    tokens, _, _ = gguf_vocab("bert-bge")
    # llama.cpp's GGUF spells WordPiece in phantom-space form: "▁word" starts a word, a bare
    # piece continues one. Back to BERT's vocab.txt: "word" and "##piece".
    vocab = []
    for t in tokens:
        if t.startswith("\u2581"):
            vocab.append(t[1:])
        elif t.startswith("[") and t.endswith("]"):
            vocab.append(t)
        else:
            vocab.append("##" + t)
    (out_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    from tokenizers import BertWordPieceTokenizer
    from transformers import PreTrainedTokenizerFast
    wp = BertWordPieceTokenizer(str(out_dir / "vocab.txt"), lowercase=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, unk_token="[UNK]",
                                  sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                                  mask_token="[MASK]", model_max_length=512)
    tok.save_pretrained(str(out_dir))
    cfg = json.loads((out_dir / "tokenizer_config.json").read_text())
    cfg.update(tokenizer_class="BertTokenizer", do_lower_case=True)
    (out_dir / "tokenizer_config.json").write_text(json.dumps(cfg))
    return len(vocab)


def spm_tokenizer(out_dir: Path, arch: str):
    train_spm(out_dir)
    cfg = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
           "add_bos_token": True, "add_eos_token": False,
           "tokenizer_class": "GemmaTokenizer" if arch.startswith("gemma") else "LlamaTokenizer",
           "chat_template": "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n"
                            "{% endfor %}"}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return 400


def make_model(arch: str, out_dir: Path):
    import torch
    import transformers as tf
    out_dir.mkdir(parents=True, exist_ok=True)
    if arch in SPM_ARCHS:
        n_vocab = spm_tokenizer(out_dir, arch)
    elif arch == "bert":
        n_vocab = bert_tokenizer(out_dir)
    else:
        n_vocab = qwen2_tokenizer(out_dir)
    common = dict(vocab_size=n_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=256)
    dec = dict(common, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=500000.0,
               bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    if arch == "llama":
        cfg = tf.LlamaConfig(**dec)
        cls = tf.LlamaForCausalLM
    elif arch == "mistral":
        cfg = tf.MistralConfig(**dec, sliding_window=None)
        cls = tf.MistralForCausalLM
    elif arch == "qwen2":
        cfg = tf.Qwen2Config(**dict(dec, tie_word_embeddings=True, bos_token_id=None,
                                    eos_token_id=151645))
        cls = tf.Qwen2ForCausalLM
    elif arch == "qwen3":
        cfg = tf.Qwen3Config(**dict(dec, head_dim=16, tie_word_embeddings=True, bos_token_id=None,
                                    eos_token_id=151645))
        cls = tf.Qwen3ForCausalLM
    elif arch == "gemma2":
        cfg = tf.Gemma2Config(**dict(dec, tie_word_embeddings=True), head_dim=16,
                              query_pre_attn_scalar=16, sliding_window=8, pad_token_id=0)
        cls = tf.Gemma2ForCausalLM
    elif arch == "gemma3":
        cfg = tf.Gemma3TextConfig(**dict(dec, tie_word_embeddings=True), head_dim=16,
                                  query_pre_attn_scalar=16, sliding_window=8, pad_token_id=0)
        cls = tf.Gemma3ForCausalLM
    elif arch == "phi3":
        cfg = tf.Phi3Config(**dec, pad_token_id=0)
        cls = tf.Phi3ForCausalLM
    else:
        cfg = tf.BertConfig(**common, type_vocab_size=2, layer_norm_eps=1e-12)
        cls = tf.BertModel
    torch.manual_seed(1234)
    model = cls(cfg).to(torch.float32)
    gemma = arch.startswith("gemma")  # gemma stores RMSNorm weights as w, applies 1 + w
    with torch.no_grad():  # random vectors too, so a wrong norm or bias transform shows
        for name, p in model.named_parameters():
            if p.dim() == 1:
                centre = 1.0 if "norm" in name.lower() and not gemma else 0.0
                p.copy_(torch.randn_like(p) * 0.1 + centre)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    return n_vocab


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n"
                           f"{r.stdout[-2000:]}{r.stderr[-4000:]}")
    return r.stdout


def numbers(lokal, gguf, arch):
    if arch == "bert":
        out = run([lokal, "embed", gguf, "the old prince was angry", "Natasha laughed"])
        return json.loads(out) if out.lstrip().startswith(("[", "{")) else out
    by_ids = run([lokal, "logits", gguf, "--tokens", TOKENS, "--all-positions", "--json",
                  "-t", "2"])
    by_text = run([lokal, "logits", gguf, "--text", TEXT, "--top", "5", "--json", "-t", "2"])
    return [json.loads(by_ids)["logits"], json.loads(by_text)]


def max_diff(a, b):
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return float("inf")
        return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return max((max_diff(a[k], b.get(k)) for k in a), default=0.0)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b)
    return 0.0 if a == b else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", default="/tmp/llama.cpp")
    ap.add_argument("--lokal", default=str(HERE.parent / "build" / "lokal"))
    ap.add_argument("--work", default="/tmp/hfref")
    ap.add_argument("--arch", nargs="*", default=ARCHS)
    ap.add_argument("--outtype", nargs="*", default=["f32", "f16"])
    args = ap.parse_args()
    llama = Path(args.llama_cpp)
    sys.path.insert(0, str(llama / "gguf-py"))
    env = dict(os.environ, PYTHONPATH=str(llama / "gguf-py"))
    work = Path(args.work)
    rows = []
    for arch in args.arch:
        hf = work / f"hf-{arch}"
        if not (hf / "config.json").exists():
            make_model(arch, hf)
        for ot in args.outtype:
            ours, theirs = work / f"{arch}-{ot}-lokal.gguf", work / f"{arch}-{ot}-ref.gguf"
            row = {"arch": arch, "outtype": ot}
            try:
                run([args.lokal, "convert", str(hf), str(ours), "--outtype", ot])
                run([sys.executable, str(llama / "convert_hf_to_gguf.py"), str(hf),
                     "--outfile", str(theirs), "--outtype", ot, "--model-name", hf.name],
                    env=env)
            except RuntimeError as e:
                row["error"] = str(e).splitlines()[0][:200]
                print(e)
                rows.append(row)
                continue
            cmp = subprocess.run([sys.executable, str(HERE / "compare-gguf.py"), str(ours),
                                  str(theirs)], capture_output=True, text=True, env=env)
            diffs = [ln for ln in cmp.stdout.splitlines() if not ln.endswith("differences")]
            meta = [d for d in diffs if d.startswith("metadata")]
            row["metadata_diffs"] = [d for d in meta if not any(k in d for k in LEGITIMATE)]
            row["legitimate"] = sorted({k for d in meta for k in LEGITIMATE if k in d})
            row["tensor_diffs"] = [d for d in diffs if not d.startswith("metadata")]
            try:
                row["logits_max_diff"] = max_diff(numbers(args.lokal, str(ours), arch),
                                                  numbers(args.lokal, str(theirs), arch))
            except RuntimeError as e:
                row["logits_error"] = str(e)[:300]
            rows.append(row)
            print(json.dumps(row, indent=1))
    print("\narch     type  tensors  metadata                         logits (ids and text)")
    bad = 0
    for r in rows:
        if "error" in r:
            print(f"{r['arch']:8} {r['outtype']:5} ERROR: {r['error']}")
            bad += 1
            continue
        t = "equal" if not r["tensor_diffs"] else f"{len(r['tensor_diffs'])} diffs"
        m = "equal" if not r["metadata_diffs"] else f"{len(r['metadata_diffs'])} diffs"
        if r["legitimate"]:
            m += " (+" + ", ".join(k.split(".")[-1] for k in r["legitimate"]) + ")"
        lg = r.get("logits_error") or ("equal" if r["logits_max_diff"] == 0 else
                                       f"max diff {r['logits_max_diff']:.3g}")
        bad += bool(r["tensor_diffs"] or r["metadata_diffs"] or r.get("logits_error") or
                    r["logits_max_diff"] != 0)
        print(f"{r['arch']:8} {r['outtype']:5} {t:8} {m:32} {lg}")
    for k, why in LEGITIMATE.items():
        print(f"(+{k.split('.')[-1]}): {k} only in ours: {why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
