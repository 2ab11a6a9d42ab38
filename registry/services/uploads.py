"""Evidence uploads: file type detected from content, safe names, storage outside the web root."""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

# content type -> (label, extension used when the original name lacks a matching one)
ALLOWED_TYPES = {
    "application/pdf": ("PDF", ".pdf"),
    "image/jpeg": ("JPEG", ".jpg"),
    "image/png": ("PNG", ".png"),
    "image/webp": ("WebP", ".webp"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("DOCX", ".docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("XLSX", ".xlsx"),
}
EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg", ".jfif"},
    "image/png": {".png"},
    "image/webp": {".webp"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
}
# What a file picker offers (`accept=`): the same types and extensions as the checks below.
ACCEPT = ",".join(sorted(ALLOWED_TYPES) + sorted(e for exts in EXTENSIONS.values() for e in exts))
TYPE_MESSAGE = _l("Chỉ nhận tệp PDF, ảnh (JPEG, PNG, WebP), Word (DOCX) hoặc Excel (XLSX).")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


class UploadError(ValueError):
    """An upload we refuse; the message is for the user (interface language)."""


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, held in memory until it is stored."""

    data: bytes
    content_type: str
    original_filename: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def detect_content_type(data: bytes) -> str | None:
    """The content type the bytes really are (magic numbers, ZIP members), or None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def sanitise_filename(name: str | None) -> str:
    """A display name without directories, NUL or control characters; never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\x00", "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[:200 - len(ext[:20])] + ext[:20]
    return name or "tai-lieu"


def download_name(original_filename: str, content_type: str) -> str:
    """The name offered on download: the original one, with an extension matching the type."""
    name = sanitise_filename(original_filename)
    if os.path.splitext(name)[1].lower() not in EXTENSIONS.get(content_type, set()):
        name += ALLOWED_TYPES.get(content_type, ("", ""))[1]
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    folded = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    ascii_name = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in "._- "))
    ascii_name = ascii_name.strip() or "tai-lieu"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def max_upload_bytes() -> int:
    return int(current_app.config["REGISTRY_MAX_UPLOAD_BYTES"])


def check_upload(file_storage) -> CheckedUpload:
    """Read and check an uploaded file (werkzeug FileStorage); raises UploadError."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise UploadError(_("Vui lòng chọn tệp để tải lên."))
    limit = max_upload_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(_("Tệp quá lớn: tối đa %(limit)s.", limit=format_size(limit)))
    if not data:
        raise UploadError(_("Tệp rỗng, không có nội dung."))
    content_type = detect_content_type(data)
    if content_type is None:
        raise UploadError(str(TYPE_MESSAGE))
    return CheckedUpload(data=data, content_type=content_type,
                         original_filename=sanitise_filename(file_storage.filename),
                         sha256=hashlib.sha256(data).hexdigest())


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 ", " ").replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} byte"


def upload_dir() -> Path:
    path = Path(current_app.config["REGISTRY_UPLOAD_DIR"])
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def new_stored_name() -> str:
    return secrets.token_hex(16)


def stored_path(stored_name: str) -> Path:
    """Where a stored file lives; refuses names that are not ours (hex only)."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", stored_name or ""):
        raise ValueError("not a stored file name")
    return upload_dir() / stored_name


def write_file(stored_name: str, data: bytes) -> Path:
    path = stored_path(stored_name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def remove_file(stored_name: str) -> None:
    try:
        stored_path(stored_name).unlink()
    except (FileNotFoundError, ValueError):
        pass
