"""The language services the protocol asks for besides execution: completion, inspection
(``obj?``), is_complete, and the history store.

Each module is imported on its first request (or warmed in the kernel's first idle moment), so
start-up does not pay for them. They read the user's namespace; none touches a socket.
"""
