"""What can go wrong talking to a kernel, worded for the user.

Shared by the link (``console.link``, which re-exports them), the Jupyter server link, the
connection-file helpers and the ssh tunnels, so that none of those needs another to say why.
"""

from __future__ import annotations


class LinkError(Exception):
    """A problem talking to the kernel, worded for the user."""


class LinkTimeout(LinkError):
    """A bounded wait ran out."""


class UserInputError(LinkError):
    """The user named something that does not exist (a file, a kernelspec): exit status 2."""
