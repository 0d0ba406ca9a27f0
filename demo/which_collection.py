"""Proof for demo/installed.sh that Ansible finds vip.mtls only where the tarball was installed.

Usage: which_collection.py LISTING INSTALLED CHECKOUT
LISTING is the output of `ansible-galaxy collection list --format json` ({path: {collection: {version}}}),
INSTALLED the directory the tarball was installed to (.../ansible_collections/vip/mtls), CHECKOUT this
repository. Exits non-zero, naming the problem, unless vip.mtls is found exactly once, at INSTALLED, as real
files (no link to the checkout) with the MANIFEST.json that only an installed tarball has.
"""

from __future__ import annotations

import json
import os
import sys


def problems(listing, installed, checkout):
    found = [os.path.join(path, "vip", "mtls") for path, cols in listing.items() if "vip.mtls" in cols]
    wrong = []
    if [os.path.realpath(p) for p in found] != [os.path.realpath(installed)]:
        wrong.append("vip.mtls must be found exactly once, at %s; Ansible finds it at %s" % (installed, found))
    if os.path.islink(installed) or os.path.realpath(installed) == os.path.realpath(checkout):
        wrong.append("%s is (a link to) the checkout, not an installed copy" % installed)
    if not os.path.isfile(os.path.join(installed, "MANIFEST.json")):
        wrong.append("%s has no MANIFEST.json: not installed from a tarball" % installed)
    return found, wrong


def main(argv):
    listing_file, installed, checkout = argv
    with open(listing_file) as handle:
        listing = json.load(handle)
    found, wrong = problems(listing, installed, checkout)
    if wrong:
        print("DEMO-INSTALLED FAILED: " + "; ".join(wrong), file=sys.stderr)
        return 1
    version = next(cols["vip.mtls"]["version"] for cols in listing.values() if "vip.mtls" in cols)
    print("Ansible finds vip.mtls %s only at %s (installed from the tarball); this checkout is not on the "
          "collections path" % (version, found[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
