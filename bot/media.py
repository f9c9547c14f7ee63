"""Where photos' bytes live: one small interface, two stores.

- `LocalMediaStore`: files under the instance folder's `media/` (the default; one machine).
- `S3MediaStore`: an S3-compatible object store, with `MEDIA_STORAGE_URL=s3://bucket/prefix`
  (credentials and region from the usual AWS variables; `MEDIA_S3_ENDPOINT_URL` for MinIO,
  Ceph, R2…). Every web process and worker on every host then sees the same photos.

Keys are relative paths like `reports/2026/11/<uuid>.jpg`, stored in `report_photos.path`; the
database never holds where the store is, so moving from disk to S3 is a copy of the files under
the same keys (docs/OPERATIONS.md).
"""
from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from .config import Settings


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified_at: datetime  # UTC, aware


class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, whole or not at all (a reader never sees half a photo)."""

    def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None if there are none."""

    def delete(self, key: str) -> None:
        """Remove `key`; a key that is not there is not an error."""

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every key under `prefix` (a folder such as `reports/`), with its time of writing."""


def check_key(key: str) -> str:
    """A relative path of plain parts: never absolute, never `..`, so no key escapes the store."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"not a media key: {key!r}")
    return key


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # Atomic: a temporary name, flushed to disk, then renamed over the real one.
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        with open(temp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        folder = self.root / prefix
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                yield StoredObject(path.relative_to(self.root).as_posix(),
                                   datetime.fromtimestamp(path.stat().st_mtime, UTC))


class S3MediaStore:
    """An S3 bucket (or any S3-compatible store) under a key prefix, through boto3."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 client: Any | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3  # only a deployment with MEDIA_STORAGE_URL needs it loaded
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint_url or None, config=Config(
                connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"}))
        self.client = client

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str) -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"][len(self.prefix):], item["LastModified"].astimezone(UTC))


def parse_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix")."""
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix


@functools.lru_cache(maxsize=8)
def media_store(settings: Settings) -> MediaStore:
    """The store the settings name; one per process and settings (an S3 client is thread-safe)."""
    if settings.media_storage_url:
        bucket, prefix = parse_url(settings.media_storage_url)
        return S3MediaStore(bucket, prefix, endpoint_url=settings.media_s3_endpoint_url or None)
    return LocalMediaStore(settings.media_dir)
