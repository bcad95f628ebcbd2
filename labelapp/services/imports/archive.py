"""Image folders arrive over HTTP as a zip: unpack one safely, so the folder importer can run."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from labelapp.services.errors import UserError

MAX_FILES = 200_000
MAX_BYTES = 4 * 1024**3  # uncompressed: a guard against zip bombs


def unpack_images_zip(archive: Path, dest: Path, display_name: str) -> Path:
    """Unpack ``archive`` into ``dest`` and return the folder to import.

    Refuses entries that would land outside ``dest`` (absolute paths, ``..``), links, archives
    with more than MAX_FILES entries or MAX_BYTES once unpacked. A zip holding one top folder
    imports that folder, so ``--folder-labels`` sees the label subfolders either way.
    """
    dest.mkdir(parents=True, exist_ok=True)
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise UserError(
            f"{display_name}: not a zip archive; for an image project upload a .zip of the "
            "image folder (one subfolder per label if the labels come from folder names)"
        ) from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES:
            raise UserError(f"{display_name}: {len(members):,} files; the limit is {MAX_FILES:,}")
        total = sum(m.file_size for m in members)
        if total > MAX_BYTES:
            raise UserError(
                f"{display_name}: {total / 1024**3:.1f} GB unpacked; the limit is "
                f"{MAX_BYTES / 1024**3:.0f} GB: import large folders with `labelapp import FOLDER`"
            )
        for member in members:
            path = PurePosixPath(member.filename)
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            if path.is_absolute() or ".." in path.parts or is_link:
                raise UserError(
                    f"{display_name}: entry {member.filename!r} points outside the archive; "
                    "nothing was imported"
                )
        zf.extractall(dest)
    entries = [p for p in dest.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest
