"""Tiny generated models, never downloaded: a BERT-style tokenizer and encoder laid out like
a Hugging Face export (nomic-shaped config.json), and a ViT with nomic-embed-vision's
preprocessor config. Used by the tests and the benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import onnx
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from nomic_serve.models.bert_graph import BertConfig, build_bert_model

from .vit_graph import VitConfig, build_vit_model
from .weights import random_bert_weights, random_vit_weights

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (  # noqa: SIM905 - a sentence reads better than 47 quoted words
    "hello world search query document clustering classification the a of and to in is "
    "for on with as by at from it this that be are was embedding vector model text "
    "tokens long short cat dog fish bird tree house car road sky sea sun moon star"
).split()
MAX_TOKENS = 64


@dataclass(frozen=True)
class TextModelDir:
    """A generated model folder laid out like a Hugging Face export."""

    folder: Path
    model: Path
    tokenizer: Path
    hidden: int


def _vocab() -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789:.,!?'-")
    pieces = ["##" + letter for letter in letters]
    return SPECIAL_TOKENS + WORDS + letters + pieces


def write_tokenizer(path: Path) -> int:
    """Writes a BERT-style WordPiece tokenizer.json; returns the vocabulary size.

    Like shipped exports, it carries its own padding and a short truncation, which the
    server must override with the model profile.
    """
    vocab = {token: index for index, token in enumerate(dict.fromkeys(_vocab()))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=16)
    tokenizer.enable_truncation(max_length=16)
    tokenizer.save(str(path))
    return len(vocab)


def build_text_model(
    folder: Path, *, hidden: int, heads: int, layers: int, seed: int
) -> TextModelDir:
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = folder / "tokenizer.json"
    vocab_size = write_tokenizer(tokenizer)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=MAX_TOKENS,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
    )
    model = folder / "model.onnx"
    onnx.save(build_bert_model(random_bert_weights(config, seed=seed), config), str(model))
    (folder / "config.json").write_text(
        json.dumps({"model_type": "nomic_bert", "n_positions": MAX_TOKENS, "n_embd": hidden})
    )
    return TextModelDir(folder=folder, model=model, tokenizer=tokenizer, hidden=hidden)


CLIP_PREPROCESSOR = {
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}
TINY_VIT = VitConfig(
    patch_size=32, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
)


def build_vision_model(folder: Path, config: VitConfig = TINY_VIT, seed: int = 3) -> Path:
    """Writes a ViT-shaped encoder with nomic-embed-vision-v1.5's preprocessor_config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / "model.onnx"
    onnx.save(build_vit_model(random_vit_weights(config, seed=seed), config), str(model))
    (folder / "config.json").write_text(json.dumps({"hidden_size": config.hidden_size}))
    (folder / "preprocessor_config.json").write_text(json.dumps(CLIP_PREPROCESSOR))
    return model


# Variants of one generated model, as the upstream folder has them (`make models-all`).
# Hidden size 64 with 4-bit blocks of 32: every weight row spans whole blocks, as 768 does.
VARIANT_HIDDEN = 64
Q4_BLOCK_SIZE = 32


def build_model_variants(folder: Path, seed: int = 7) -> TextModelDir:
    """fp32 `model.onnx` (the baseline) beside `model_quantized.onnx` (dynamic int8, as
    upstream), `model_fp16.onnx` (float16 all through, outputs included, as upstream's:
    the server must cast) and `model_q4.onnx` (4-bit weights, MatMulNBits); returns the
    baseline."""
    # Imported here: the 4-bit quantizer needs onnx-ir, which only the dev extra installs.
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    from onnxruntime.transformers.float16 import convert_float_to_float16

    base = build_text_model(folder, hidden=VARIANT_HIDDEN, heads=4, layers=2, seed=seed)
    fp32 = onnx.load(str(base.model))
    quantize_dynamic(
        str(base.model), str(folder / "model_quantized.onnx"), weight_type=QuantType.QInt8
    )
    onnx.save(convert_float_to_float16(fp32, keep_io_types=False), str(folder / "model_fp16.onnx"))
    # accuracy_level 4: activations are quantized to int8 too, per row and block of 32.
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(base.model)), block_size=Q4_BLOCK_SIZE, is_symmetric=True, accuracy_level=4
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(folder / "model_q4.onnx"))
    return base
