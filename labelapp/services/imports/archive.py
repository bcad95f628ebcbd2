"""Image folders arrive over HTTP as a zip: unpack one safely, so the folder importer can run.

Nothing the archive claims about itself is trusted: every entry is streamed to disk in chunks
and counted as it is read, so a zip bomb stops at the first limit it crosses (entry count,
total unpacked size, per-entry compression ratio; see :mod:`labelapp.config`) and memory stays
at one chunk whatever the archive holds. Errors name the uploaded file and the entry, never a
server path.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from labelapp import config
from labelapp.services.errors import UserError

CHUNK_BYTES = 1024**2
RATIO_CHECK_AFTER_BYTES = 1024**2  # small entries may compress well (a blank icon): no ratio check
_LINK = 0o120000


def unpack_images_zip(archive: Path, dest: Path, display_name: str) -> Path:
    """Unpack ``archive`` into ``dest`` and return the folder to import.

    Refuses entries that would land outside ``dest`` (absolute paths, ``..``), links, corrupt or
    encrypted entries, and archives past the limits in :mod:`labelapp.config`. A zip holding one
    top folder imports that folder, so ``--folder-labels`` sees the label subfolders either way.
    On refusal nothing of the archive is left in ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    check_entry_count(archive, display_name)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UserError(
            f"{display_name}: not a zip archive (or a damaged one); for an image project upload "
            "a .zip of the image folder (one subfolder per label if the labels come from folder "
            "names)"
        ) from None
    try:
        with zf:
            _unpack(zf, dest, display_name)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    entries = [p for p in dest.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def check_entry_count(archive: Path, name: str) -> None:
    """Refuse too many entries from the archive's end record, before ``zipfile`` builds an
    object per entry (10 million tiny entries fit in 1 GB and would take gigabytes of memory)."""
    max_files = config.zip_max_files()
    try:
        with archive.open("rb") as handle:
            end = zipfile._EndRecData(handle)
    except (OSError, AttributeError, struct.error):
        return  # zipfile.ZipFile then reports the damage itself
    count = end[zipfile._ECD_ENTRIES_TOTAL] if end else 0
    if count > max_files:
        raise UserError(
            f"{name}: {count:,} entries; the limit is {max_files:,} (LABELAPP_ZIP_MAX_FILES)"
        )


def _unpack(zf: zipfile.ZipFile, dest: Path, name: str) -> None:
    max_files, max_bytes, max_ratio = (
        config.zip_max_files(),
        config.zip_max_bytes(),
        config.zip_max_ratio(),
    )
    members = zf.infolist()
    for member in members:
        _check_path(member, name)
    files = [m for m in members if not m.is_dir()]
    if len(files) > max_files:
        raise UserError(
            f"{name}: {len(files):,} files; the limit is {max_files:,} (LABELAPP_ZIP_MAX_FILES)"
        )
    total = 0
    for member in files:
        target = dest.joinpath(*PurePosixPath(member.filename).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        total += _copy_entry(zf, member, target, name, max_bytes - total, max_ratio)


def _check_path(member: zipfile.ZipInfo, name: str) -> None:
    path = PurePosixPath(member.filename.replace("\\", "/"))
    is_link = (member.external_attr >> 16) & 0o170000 == _LINK
    drive = bool(path.parts) and path.parts[0].endswith(":")  # C:/... from Windows
    if path.is_absolute() or ".." in path.parts or is_link or drive:
        raise UserError(
            f"{name}: entry {member.filename!r} points outside the archive (an absolute path, "
            "'..' or a link); nothing was imported"
        )


def _copy_entry(
    zf: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    target: Path,
    name: str,
    budget: int,
    max_ratio: float,
) -> int:
    """Stream one entry to ``target``, counting real bytes; return how many were written."""
    entry = f"{name}: entry {member.filename!r}"
    limit_mb = config.zip_max_bytes() // 1024**2
    compressed = max(member.compress_size, 1)
    written = 0
    try:
        with zf.open(member) as source, target.open("wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                written += len(chunk)
                if written > budget:
                    raise UserError(
                        f"{entry}: the archive unpacks to more than {limit_mb:,} MB; the limit "
                        "is LABELAPP_ZIP_MAX_MB: import large folders with `labelapp import "
                        "FOLDER` on the server"
                    )
                if written > RATIO_CHECK_AFTER_BYTES and written > max_ratio * compressed:
                    raise UserError(
                        f"{entry}: unpacks to more than {max_ratio:g} times its compressed size "
                        f"({compressed:,} bytes), like a zip bomb; the limit is "
                        "LABELAPP_ZIP_MAX_RATIO"
                    )
                out.write(chunk)
    except zipfile.BadZipFile as exc:  # a wrong CRC-32, a bad local header
        raise UserError(f"{entry} is damaged ({exc}); nothing was imported") from None
    except (zlib.error, EOFError) as exc:  # corrupt deflate data, a truncated archive
        raise UserError(
            f"{entry} is damaged: its compressed data cannot be read ({type(exc).__name__}); "
            "nothing was imported"
        ) from None
    except NotImplementedError as exc:  # a compression method zipfile lacks
        raise UserError(f"{entry}: {exc}; re-create the zip with plain deflate") from None
    except RuntimeError as exc:  # encrypted
        raise UserError(f"{entry}: {exc}; upload a zip without a password") from None
    return written
