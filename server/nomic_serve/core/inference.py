"""ONNX Runtime sessions: padded batches in, hidden states out.

Everything ORT raises is translated here, where it enters: a bad model file becomes
ConfigError at start-up, a failed run becomes InferenceFailed for that request only.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from ..errors import ConfigError, InferenceFailed

__all__ = [
    "BatchingMode",
    "GraphCache",
    "OnnxEncoder",
    "TextSession",
    "Threads",
    "VisionSession",
    "batching_mode",
    "file_version",
    "load_cuda_libraries",
    "optimized_graph_cache",
    "read_batching_mode",
]

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# Ops that quantize activations with one scale per tensor, computed over the whole batch:
# an input's result then depends on what shares its batch (the original's int8 finding).
_BATCH_DEPENDENT_OPS = frozenset({"DynamicQuantizeLinear", "DynamicQuantizeMatMul"})


@dataclass(frozen=True)
class BatchingMode:
    """Whether inputs may share one inference, and why (reported by Info)."""

    batched: bool
    reason: str

    @property
    def name(self) -> str:
        return "batched" if self.batched else "isolated"


def batching_mode(model: onnx.ModelProto) -> BatchingMode:
    """Decides from the graph, not the file name, whether batching leaves results unchanged."""
    found = sorted(
        {node.op_type for node in _all_nodes(model.graph) if node.op_type in _BATCH_DEPENDENT_OPS}
    )
    if found:
        return BatchingMode(
            batched=False,
            reason=f"dynamic activation quantization ({', '.join(found)}) computes one scale "
            "per batch, so each input runs alone",
        )
    return BatchingMode(batched=True, reason="no batch-dependent ops: batching is exact")


def _all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attribute.g)


@dataclass(frozen=True)
class Threads:
    """How one session uses the cores; chosen per batching mode by the loader."""

    intra_op: int  # threads per inference; 0: every core (ONNX Runtime's default)
    spinning: bool  # idle intra-op threads spin-wait between an inference's parallel sections
    stop_spinning_after_run: bool = False  # ...but park as soon as the last run returns


def read_batching_mode(path: Path) -> BatchingMode:
    """The model's batching mode, read from its graph; ConfigError when it is not ONNX."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise ConfigError(f"{path}: not a readable ONNX model ({exc})") from None
    return batching_mode(model)


class OnnxEncoder:
    """One ORT session; subclasses name the feeds."""

    required_inputs: frozenset[str] = frozenset()

    def __init__(
        self,
        path: Path,
        *,
        mode: BatchingMode,
        threads: Threads,
        use_gpu: bool,
        optimized_cache: GraphCache | None = None,
    ) -> None:
        self.mode = mode
        self.threads = threads
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads.intra_op
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if threads.spinning else "0"
        )
        if threads.stop_spinning_after_run:
            options.add_session_config_entry("session.force_spinning_stop", "1")
        # Lengths vary per batch: memory patterns planned for one shape would not be reused.
        options.enable_mem_pattern = False
        # One arena for every session of the process (see _shared_cpu_arena).
        if _shared_cpu_arena():
            options.add_session_config_entry("session.use_env_allocators", "1")
        options.log_severity_level = 3
        providers = _providers(use_gpu)
        self._session = _optimized_session(path, options, providers, optimized_cache)
        self.providers: list[str] = self._session.get_providers()
        self._input_names = {i.name for i in self._session.get_inputs()}
        missing = self.required_inputs - self._input_names
        if missing:
            raise ConfigError(f"{path}: unexpected model, inputs {sorted(missing)} missing")
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "last_hidden_state" if "last_hidden_state" in outputs else outputs[0]
        self.output_dimension = _last_dim(self._session.get_outputs()[0].shape)

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Runs one batch; ORT releases the GIL, so callers run this on a thread pool."""
        try:
            (hidden,) = self._session.run(
                [self._output], {k: v for k, v in feeds.items() if k in self._input_names}
            )
        except Exception as exc:
            log.exception("inference failed")
            raise InferenceFailed(f"inference failed: {type(exc).__name__}") from exc
        return hidden


class TextSession(OnnxEncoder):
    """A text encoder: token ids in, [B, T, H] hidden states out."""

    required_inputs = frozenset({"input_ids", "attention_mask"})

    def run(self, ids: np.ndarray, mask: np.ndarray, type_ids: np.ndarray) -> np.ndarray:
        return self._run({"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids})


class VisionSession(OnnxEncoder):
    """A vision encoder: [B, 3, H, W] pixel values in, [B, tokens, H] hidden states out."""

    required_inputs = frozenset({"pixel_values"})

    def run(self, pixel_values: np.ndarray) -> np.ndarray:
        return self._run({"pixel_values": pixel_values})


@functools.cache
def _shared_cpu_arena() -> bool:
    """Registers one CPU arena that every session uses: a per-session arena keeps the largest
    batch's memory for good, once per session (the solo session's too) and per concurrent
    run. It grows by what is asked (kSameAsRequested), not by doubling. False where this
    ONNX Runtime cannot (the sessions then keep their own arenas)."""
    try:
        memory = ort.OrtMemoryInfo(
            "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
        )
        ort.create_and_register_allocator(memory, ort.OrtArenaCfg({"arena_extend_strategy": 1}))
    except Exception as exc:  # an older or a GPU-only build: not fatal
        log.warning("no shared CPU arena (%s): each session keeps its own", exc)
        return False
    return True


@dataclass(frozen=True)
class GraphCache:
    """Where optimized graphs are found (a read-only seed first, e.g. baked into an image) and
    where new ones are saved (`folder`; None when CACHE_DIR cannot be written)."""

    folder: Path | None
    seed: Path | None = None

    def find(self, name: str) -> Path | None:
        for folder in (self.seed, self.folder):
            if folder is not None and (folder / name).is_file():
                return folder / name
        return None


def optimized_graph_cache(cache_dir: Path, seed_dir: Path | None = None) -> GraphCache:
    """CACHE_DIR/optimized, saved to when it can be written (else one warning: the cache only
    saves start-up time, so a read-only CACHE_DIR must not stop the server), and
    CACHE_SEED_DIR/optimized, only read."""
    seed = seed_dir / "optimized" if seed_dir is not None else None
    folder = cache_dir / "optimized"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        log.warning(
            "CACHE_DIR %s is not writable (%s): optimized graphs are not saved",
            cache_dir,
            exc.strerror or exc,
        )
        return GraphCache(None, seed)
    return GraphCache(folder, seed)


def _optimized_session(
    path: Path, options: ort.SessionOptions, providers: list[str], cache: GraphCache | None
) -> ort.InferenceSession:
    """A session with every graph optimization; the optimized graph is saved in the cache (see
    `optimized_graph_cache`) so later starts load it as is instead of optimizing again (a
    cold-start saving)."""
    name = _cached_name(path, providers)
    cached = cache.find(name) if cache else None
    if cached is not None:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(cached), options, providers=providers)
        except Exception:  # a stale or damaged cache entry: rebuild it from the model
            log.warning("ignoring unusable optimized model %s", cached)
            if cache is not None and cached.parent == cache.folder:
                cached.unlink(missing_ok=True)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    target = cache.folder / name if cache is not None and cache.folder is not None else None
    partial = target.with_name(f"{name}.{os.getpid()}.tmp") if target else None
    if partial is not None:
        options.optimized_model_filepath = str(partial)
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... types
        raise ConfigError(f"{path}: ONNX Runtime cannot load it ({exc})") from None
    if target is not None and partial is not None and partial.is_file():
        try:
            os.replace(partial, target)  # atomic: a concurrent start sees all of it or nothing
        except OSError:
            log.warning("could not keep the optimized graph of %s", path.name)
            partial.unlink(missing_ok=True)
    return session


def _cached_name(path: Path, providers: list[str]) -> str:
    """One file per model version, ONNX Runtime version and provider list."""
    identity = f"{file_version(path)}|{ort.__version__}|{providers}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"{path.stem}-{digest}.onnx"


def file_version(path: Path) -> str:
    """A file's resolved path, size and modification time: what the caches derived from a
    model file are keyed by, so a replaced file (a new download, another mounted volume) is
    noticed without reading it."""
    resolved = path.resolve()
    stat = resolved.stat()
    return f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}"


# The CUDA and cuDNN libraries ONNX Runtime's CUDA provider needs, in the order they depend on
# one another, as the `gpu` extra's nvidia-* wheels install them (nvidia/<part>/lib/).
CUDA_LIBRARIES = (
    "libcudart.so.*",
    "libcublasLt.so.*",
    "libcublas.so.*",
    "libcurand.so.*",
    "libcufft.so.*",
    "libnvJitLink.so.*",
    "libnvrtc.so.*",
    "libcudnn.so.*",
)


def load_cuda_libraries() -> list[Path]:
    """Loads the CUDA and cuDNN libraries of the nvidia-* wheels (`pip install
    'nomic-serve[gpu]'`) so the CUDA provider finds them without LD_LIBRARY_PATH; the paths
    loaded, none when those wheels are absent (then the system's libraries are used).
    onnxruntime's own `preload_dlls` does not know the CUDA 13 wheels' layout."""
    spec = importlib.util.find_spec("nvidia")
    roots = [Path(root) for root in (spec.submodule_search_locations or [])] if spec else []
    loaded = []
    for pattern in CUDA_LIBRARIES:
        for path in sorted(p for root in roots for p in root.glob(f"*/lib/{pattern}")):
            try:
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            except OSError as exc:
                log.warning("could not load %s: %s", path.name, exc)
                continue
            loaded.append(path)
    return loaded


def _providers(use_gpu: bool) -> list[str]:
    """CUDA first when asked and present; CPU always, so a missing GPU falls back."""
    if use_gpu:
        libraries = load_cuda_libraries()
        log.info("CUDA libraries from the nvidia wheels: %s", [p.name for p in libraries])
    if use_gpu and CUDA in ort.get_available_providers():
        return [CUDA, CPU]
    if use_gpu:
        log.warning("USE_GPU is set but %s is not available; running on CPU", CUDA)
    return [CPU]


def _last_dim(shape: list[object]) -> int | None:
    return shape[-1] if shape and isinstance(shape[-1], int) else None
