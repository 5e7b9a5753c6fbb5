"""Qt resource (.rcc) files: the WebP images inside them, their name table and credits READMEs."""

import re
import struct
import warnings
import zlib

from .corpus_sources import CorpusWarning


# ---------------------------------------------------------------------------------------------
# Qt resource (.rcc) files: WebP images cut out by their RIFF header
# ---------------------------------------------------------------------------------------------

def rcc_webps(data):
    """Return [(index, offset, webp_bytes)] of each `RIFF<len>WEBP` image in `data`, in order."""
    found, pos = [], 0
    while True:
        pos = data.find(b"RIFF", pos)
        if pos < 0 or pos + 12 > len(data):
            return found
        if data[pos + 8:pos + 12] != b"WEBP":
            pos += 4
            continue
        end = pos + 8 + struct.unpack_from("<I", data, pos + 4)[0]
        if end > len(data):
            warnings.warn(f"a WebP image at byte {pos} runs past the end of the file; skipped",
                          CorpusWarning, stacklevel=2)
            pos += 4
            continue
        found.append((len(found), pos, data[pos:end]))
        pos = end


def rcc_entries(data):
    """Return [(path, flags, offset, size)] of the files in a Qt .rcc's name table, or [].

    Layout (Qt's rcc format 1-3): "qres", then the version and the offsets of the tree, the data
    and the names (big-endian); tree nodes of 14 bytes (22 from version 2) hold a name offset and
    flags, then for a folder its child count and first child, for a file its data offset. A
    file's data is a 4-byte length and the bytes (flags 1: zlib-compressed, 4: zstd); `offset`
    is where those bytes start, so a WebP stored as it is starts there with RIFF.
    """
    try:
        if data[:4] != b"qres":
            return []
        version, tree, data_start, names = struct.unpack_from(">IIII", data, 4)
        node_size = 22 if version >= 2 else 14

        def name_at(offset):
            (length,) = struct.unpack_from(">H", data, names + offset)
            start = names + offset + 6
            return data[start:start + 2 * length].decode("utf-16-be")

        found, todo, seen = [], [(0, "")], set()
        while todo:
            index, prefix = todo.pop()
            if index in seen or len(seen) > 1_000_000:
                return []
            seen.add(index)
            node = tree + index * node_size
            name_offset, flags = struct.unpack_from(">IH", data, node)
            name = name_at(name_offset) if index else ""
            if flags & 2:                                   # a folder
                count, first = struct.unpack_from(">II", data, node + 6)
                todo.extend((first + i, f"{prefix}{name}/") for i in range(count))
            else:
                (offset,) = struct.unpack_from(">I", data, node + 10)
                (size,) = struct.unpack_from(">I", data, data_start + offset)
                found.append((prefix + name, flags, data_start + offset + 4, size))
        return sorted(found, key=lambda e: e[2])
    except (struct.error, UnicodeDecodeError, IndexError):
        return []


def rcc_names(data):
    """Return {offset of a file's bytes: path} from a Qt .rcc file's name table ({} if none)."""
    return {offset: path for path, _, offset, _ in rcc_entries(data)}


def rcc_file(data, flags, offset, size):
    """The bytes of one .rcc file entry (zlib ones decompressed), or None for zstd ones."""
    payload = data[offset:offset + size]
    if flags & 4:
        return None
    if flags & 1:
        try:
            return zlib.decompress(payload[4:])
        except zlib.error:
            return None
    return payload


_NOTICE_KEYS = {"copyright", "license", "source", "comment", "comments", "files"}
_FILE_NAME = re.compile(r"[\w./+-]+\.[A-Za-z0-9]{2,5}")


def _licence_name(text):
    """A licence as written in a README as a short name ("CC-BY-SA 4.0" -> "CC-BY-SA-4.0")."""
    text = text.strip().rstrip(".")
    if re.fullmatch(r"public[ -]domain", text, re.IGNORECASE):
        return "public-domain"
    m = re.fullmatch(r"(L?GPL)v(\d(?:\.\d)?)(\+?)", text)
    if m:
        return f"{m.group(1)}-{m.group(2)}{m.group(3)}"
    return re.sub(r"\s+(?=\d)", "-", text)


def parse_notices(text, folder):
    """Return {path: (licence, credit)} from a credits README (GCompris' Copyright/License/Files).

    Paragraphs name their files after `Files:` or on lines of their own, relative to `folder`.
    """
    notices = {}
    for paragraph in re.split(r"\n\s*\n", text):
        fields, files, key = {}, [], None
        for line in paragraph.splitlines():
            m = re.match(r"([A-Za-z]+):\s*(.*)$", line.strip())
            if m and m.group(1).lower() in _NOTICE_KEYS:
                key, value = m.group(1).lower(), m.group(2).strip()
                if key == "files":
                    files += value.split()
                else:
                    fields[key] = value
            elif _FILE_NAME.fullmatch(line.strip()):
                files.append(line.strip())
            elif line.strip() and key and key != "files":
                fields[key] = f"{fields[key]} {line.strip()}".strip()
        if not files or "license" not in fields:
            continue
        credit = "; ".join(v for v in (fields.get("copyright"), fields.get("source"),
                                       fields.get("comment") or fields.get("comments")) if v)
        for name in files:
            notices[f"{folder}/{name}"] = (_licence_name(fields["license"]), credit)
    return notices


def rcc_notices(data, entries):
    """Return {path: (licence, credit, README path)} from the README files inside a .rcc."""
    notices = {}
    for path, flags, offset, size in entries:
        if path.rsplit("/", 1)[-1].upper() not in ("README", "README.TXT", "CREDITS"):
            continue
        raw = rcc_file(data, flags, offset, size)
        if raw is None:
            continue
        found = parse_notices(raw.decode("utf-8", "replace"), path.rsplit("/", 1)[0])
        notices.update({k: (lic, credit, path) for k, (lic, credit) in found.items()})
    return notices
