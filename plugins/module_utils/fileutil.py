# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure, atomic file writing on the target (standard library only)."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


def parse_mode(value, option):
    """File modes arrive as '0600' strings (as they should) or as YAML octal integers."""
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        try:
            mode = int(text, 8)
        except ValueError:
            raise VipMtlsError("%s=%r is not an octal file mode; quote it, for example %s: '0600'"
                               % (option, value, option))
    if not 0 <= mode <= 0o7777:
        raise VipMtlsError("%s=%r is outside 0000-7777; write modes as quoted octal strings such as '0640'"
                           % (option, value))
    return mode


def check_absolute(path, option):
    if not path or not os.path.isabs(path):
        raise VipMtlsError("%s=%r must be an absolute path (a relative one would land in whatever directory "
                           "the module runs in)" % (option, path))


def check_trusted_directory(path, owner_uid):
    """Refuse a directory that another user could swap, or write into, under our feet.

    Every existing directory on the way (after resolving symlinks) must belong to root or to the
    requested owner and must not be writable by group or others unless sticky (like /tmp); a symlink
    on the way must belong to root. The same rule as OpenSSH's StrictModes.
    """
    trusted = {0, os.geteuid()} | ({owner_uid} if owner_uid != -1 else set())
    current = "/"
    for part in [p for p in path.split("/") if p]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            break
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in trusted:
            raise VipMtlsError("%s is a symbolic link owned by uid %d; refusing to follow it to the key's "
                               "directory" % (current, st.st_uid))
    directory = os.path.realpath(path)
    while True:
        try:
            st = os.stat(directory)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISDIR(st.st_mode):
                raise VipMtlsError("%s exists but is not a directory" % directory)
            if st.st_uid not in trusted:
                raise VipMtlsError(
                    "%s belongs to uid %d, not to root or the requested owner: that user could replace the "
                    "key or certificate. Change its owner, or choose another directory" % (directory, st.st_uid))
            if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
                raise VipMtlsError(
                    "%s is writable by group or others (mode %04o): they could replace the key or certificate. "
                    "Remove that write permission, or choose another directory"
                    % (directory, stat.S_IMODE(st.st_mode)))
        if directory == "/":
            return
        directory = os.path.dirname(directory)


def _resolve_id(value, lookup, kind):
    """Numeric id for a name or number; -1 (keep as is) when not set."""
    if value in (None, ""):
        return -1
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return lookup(value)
    except KeyError:
        raise VipMtlsError("%s %r does not exist on this host; create it first or change %s" % (kind, value, kind))


def resolve_uid(owner):
    return _resolve_id(owner, lambda name: pwd.getpwnam(name).pw_uid, "owner")


def resolve_gid(group):
    return _resolve_id(group, lambda name: grp.getgrnam(name).gr_gid, "group")


def read_bytes(path, limit=4 * 1024 * 1024):
    """Content of a regular file, or None when there is none (a symlink is never followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    with open(path, "rb") as handle:
        return handle.read(limit)


def attrs_differ(path, mode, uid, gid):
    """True when the file's mode/owner/group differ from the wanted ones (-1 = don't care)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    return (stat.S_IMODE(st.st_mode) != mode
            or (uid != -1 and st.st_uid != uid)
            or (gid != -1 and st.st_gid != gid))


def ensure_directory(path, mode, uid, gid, check_mode):
    """Create ``path`` (with its missing parents 0755) or fix its mode/owner. Returns changed."""
    if os.path.islink(path):
        raise VipMtlsError("%s is a symbolic link; refusing to use it as the destination directory" % path)
    if os.path.isdir(path):
        if not attrs_differ(path, mode, uid, gid):
            return False
        if not check_mode:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    if os.path.exists(path):
        raise VipMtlsError("%s exists but is not a directory" % path)
    if not check_mode:
        parent = os.path.dirname(path.rstrip("/"))
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        os.mkdir(path, 0o700)  # narrow first; the wanted owner and mode follow at once
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    return True


def write_atomic(path, data, mode, uid, gid, before_rename=None):
    """Replace ``path`` with ``data`` so it is never partial and never more open than ``mode``.

    The temporary file is created 0600 by root in the destination directory, gets its final
    owner, group and mode while still empty, and only then receives the data; rename() then
    swaps it in atomically (a symlink at ``path`` is replaced, never followed).
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".vip-mtls-", dir=directory)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_rename:
            before_rename(tmp)  # e.g. give it the SELinux context of the file it replaces
        os.rename(tmp, path)
        tmp = None
        _fsync_directory(directory)
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
