"""Host-side builds of what we ship: installer environment and product tree (issue 3), media later.

Runs on the build machine's own Python (Debian bookworm here) as root; needs mmdebstrap,
squashfs-tools, gpg and dpkg-dev. Nothing here is imported by the installer itself.
"""
