"""Reading a training job's output, ``model.tar.gz``: the candidate the pipeline judges.

``sagemaker_jobs/train.py`` writes ``model.json``, ``results.json``, ``metrics.json`` and
``data_info.json`` to ``/opt/ml/model`` and SageMaker uploads them as that archive. The
:mod:`~lambdas.pipeline.evaluate`, :mod:`~lambdas.pipeline.promote` and
:mod:`~lambdas.pipeline.report` tasks read it in memory with :func:`read_candidate`.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

from lambdas.pipeline.uris import local_path, split_s3
from mmm_core.errors import Codes, MMModelError
from mmm_core.store import S3Store

__all__ = ["CANDIDATE_FILES", "CandidateArtifacts", "read_candidate"]

#: Files of a training job's ``model.tar.gz`` that the pipeline reads (``sagemaker_jobs/train``).
CANDIDATE_FILES = ("model.json", "results.json", "metrics.json", "data_info.json")
_MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
_MAX_MEMBER_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CandidateArtifacts:
    """The JSON documents of a training job's output (``model.tar.gz``).

    Attributes
    ----------
    uri : str
        Where the archive was read.
    model_doc : dict
        ``model.json``: the fitted model.
    results : dict
        ``results.json``: the fit's results.
    metrics : dict
        ``metrics.json`` (``{}`` when absent).
    data_info : dict
        ``data_info.json`` (``{}`` when absent).
    """

    uri: str
    model_doc: dict[str, Any]
    results: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    data_info: dict[str, Any] = field(default_factory=dict)


def _archive_bytes(uri: str) -> bytes:
    if uri.startswith("s3://"):
        bucket, key = split_s3(uri)
        data = S3Store(bucket).get_bytes(key)
    else:
        path = local_path(uri)
        if not path.is_file():
            raise MMModelError(
                Codes.MODEL_ERROR,
                f"no model archive at {uri!r}.",
                hint="give the training job's ModelArtifacts.S3ModelArtifacts (model.tar.gz).",
                details={"reason": "not_found", "uri": uri},
            )
        data = path.read_bytes()
    if len(data) > _MAX_ARCHIVE_BYTES:
        raise _corrupt_archive(uri, f"it is {len(data)} bytes, more than a model can be")
    return data


def _corrupt_archive(uri: str, why: str) -> MMModelError:
    return MMModelError(
        Codes.CORRUPT_MODEL_FILE,
        f"{uri!r} is not a usable training output: {why}.",
        hint="train again; the job writes model.json, results.json and metrics.json to "
        "/opt/ml/model (sagemaker_jobs/train.py).",
        details={"uri": uri},
    )


def read_candidate(uri: str) -> CandidateArtifacts:
    """Read ``model.json``, ``results.json``... from a training job's ``model.tar.gz``.

    Only those regular files at the archive's top level are read, in memory: nothing is
    extracted to disk and nothing in the archive runs (JSON only, never pickle).

    Parameters
    ----------
    uri : str
        The archive: ``s3://bucket/key``, ``file:///path`` or a local path.

    Returns
    -------
    CandidateArtifacts
        The archive's documents.

    Raises
    ------
    MMModelError
        ``MMM_004`` when the archive is damaged or lacks ``model.json`` / ``results.json``;
        ``MMM_001`` (not found) when there is no archive.
    """
    docs: dict[str, Any] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(_archive_bytes(uri)), mode="r:*") as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("./")
                if name not in CANDIDATE_FILES or not member.isfile():
                    continue
                if member.size > _MAX_MEMBER_BYTES:
                    raise _corrupt_archive(uri, f"{name} is {member.size} bytes")
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                docs[name] = json.loads(handle.read().decode("utf-8"))
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _corrupt_archive(uri, f"{type(exc).__name__}: {exc}") from exc
    missing = [n for n in ("model.json", "results.json") if not isinstance(docs.get(n), dict)]
    if missing:
        raise _corrupt_archive(uri, f"{' and '.join(missing)} missing")
    return CandidateArtifacts(
        uri=uri,
        model_doc=docs["model.json"],
        results=docs["results.json"],
        metrics=docs.get("metrics.json") or {},
        data_info=docs.get("data_info.json") or {},
    )
